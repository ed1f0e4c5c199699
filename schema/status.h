// Expected failures as values (STYLE.md rule 2): Status and Result<T>, shared by every layer.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace quarry {

/// What kind of failure a Status carries; the CLI maps these to exit codes.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  ///< the caller's input is wrong (bad flag value, bad SQL): exit 2 or 1
  kNotFound,         ///< a named file or database does not exist
  kIoError,          ///< reading or writing a file failed
  kCorrupt,          ///< a file or database is not what it claims to be
  kVersionMismatch,  ///< a case database written by a newer Quarry, or not a case database
  kReadOnly,         ///< a write was attempted through a read-only connection
  kInternal,         ///< a bug or an unexpected library failure
};

/// Success, or a failure code with a message for people.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

/// A value, or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace quarry

/// Returns the Status of `expr` from the enclosing function when it is not ok.
#define QUARRY_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::quarry::Status quarry_status_ = (expr);        \
    if (!quarry_status_.ok()) return quarry_status_; \
  } while (false)
