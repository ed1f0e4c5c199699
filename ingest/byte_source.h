// Where decoders read bytes from: a file on disk, or an entry streamed out of an archive. Every
// decoder reads front to back through this interface, so an archive entry is never written to
// disk and a file is read once.
#pragma once

#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "schema/status.h"

namespace quarry::ingest {

/// A stream of bytes read front to back.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  /// Reads up to `size` bytes into `out`: the number read, 0 only at the end. kIoError when the
  /// bytes cannot be read (a disk error, a damaged or encrypted archive entry).
  virtual Result<std::size_t> Read(char* out, std::size_t size) = 0;

  /// Reads until `size` bytes or the end: the number read.
  Result<std::size_t> ReadFull(char* out, std::size_t size);
};

/// Reads a file on disk. `name` is used in messages.
Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path);

/// Returns `head` first, then what `rest` has left: for a decoder that must start again at the
/// bytes a sniff already took.
std::unique_ptr<ByteSource> PrependBytes(std::string head, std::unique_ptr<ByteSource> rest);

/// A source that reads `source` without owning it (it must outlive the result).
std::unique_ptr<ByteSource> Borrow(ByteSource* source);

/// Passes another source's bytes through, taking their SHA-256 and counting them.
class HashingSource : public ByteSource {
 public:
  explicit HashingSource(std::unique_ptr<ByteSource> inner);
  ~HashingSource() override;
  Result<std::size_t> Read(char* out, std::size_t size) override;

  /// Reads what is left (so the digest covers everything) and returns the lower-case hex
  /// SHA-256 of all the bytes; call once, at the end.
  Result<std::string> Finish();
  std::int64_t bytes() const { return bytes_; }

 private:
  std::unique_ptr<ByteSource> inner_;
  EVP_MD_CTX* ctx_;
  std::int64_t bytes_ = 0;
};

/// Lower-case hex of a SHA-256 digest in progress; finalizes `ctx`.
std::string FinishSha256(EVP_MD_CTX* ctx);

}  // namespace quarry::ingest
