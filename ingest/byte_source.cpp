// Byte sources: files, a replayed head, and a hashing pass-through.
#include "ingest/byte_source.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace quarry::ingest {
namespace {

class FileSource : public ByteSource {
 public:
  FileSource(std::FILE* file, std::string path) : file_(file), path_(std::move(path)) {}
  ~FileSource() override { std::fclose(file_); }

  Result<std::size_t> Read(char* out, std::size_t size) override {
    std::size_t n = std::fread(out, 1, size, file_);
    if (n < size && std::ferror(file_)) {
      return Status(StatusCode::kIoError, path_ + ": read failed: " + std::strerror(errno));
    }
    return n;
  }

 private:
  std::FILE* file_;
  std::string path_;
};

class PrependedSource : public ByteSource {
 public:
  PrependedSource(std::string head, std::unique_ptr<ByteSource> rest)
      : head_(std::move(head)), rest_(std::move(rest)) {}

  Result<std::size_t> Read(char* out, std::size_t size) override {
    if (used_ < head_.size()) {
      std::size_t n = std::min(size, head_.size() - used_);
      std::memcpy(out, head_.data() + used_, n);
      used_ += n;
      if (used_ == head_.size()) {  // give the memory back
        std::string().swap(head_);
        used_ = 0;
      }
      return n;
    }
    return rest_->Read(out, size);
  }

 private:
  std::string head_;
  std::size_t used_ = 0;
  std::unique_ptr<ByteSource> rest_;
};

class BorrowedSource : public ByteSource {
 public:
  explicit BorrowedSource(ByteSource* source) : source_(source) {}
  Result<std::size_t> Read(char* out, std::size_t size) override {
    return source_->Read(out, size);
  }

 private:
  ByteSource* source_;
};

}  // namespace

std::unique_ptr<ByteSource> Borrow(ByteSource* source) {
  return std::make_unique<BorrowedSource>(source);
}

Result<std::size_t> ByteSource::ReadFull(char* out, std::size_t size) {
  std::size_t total = 0;
  while (total < size) {
    Result<std::size_t> n = Read(out + total, size - total);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    total += *n;
  }
  return total;
}

Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return Status(StatusCode::kIoError, path + ": cannot open: " + std::strerror(errno));
  }
  return std::unique_ptr<ByteSource>(new FileSource(file, path));
}

std::unique_ptr<ByteSource> PrependBytes(std::string head, std::unique_ptr<ByteSource> rest) {
  return std::make_unique<PrependedSource>(std::move(head), std::move(rest));
}

HashingSource::HashingSource(std::unique_ptr<ByteSource> inner)
    : inner_(std::move(inner)), ctx_(EVP_MD_CTX_new()) {
  if (ctx_ != nullptr) EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
}

HashingSource::~HashingSource() { EVP_MD_CTX_free(ctx_); }

Result<std::size_t> HashingSource::Read(char* out, std::size_t size) {
  Result<std::size_t> n = inner_->Read(out, size);
  if (n.ok() && *n > 0) {
    EVP_DigestUpdate(ctx_, out, *n);
    bytes_ += static_cast<std::int64_t>(*n);
  }
  return n;
}

Result<std::string> HashingSource::Finish() {
  if (ctx_ == nullptr) return Status(StatusCode::kInternal, "SHA-256 unavailable");
  std::string buffer(1 << 16, '\0');
  while (true) {
    Result<std::size_t> n = Read(buffer.data(), buffer.size());
    if (!n.ok()) return n.status();
    if (*n == 0) break;
  }
  return FinishSha256(ctx_);
}

std::string FinishSha256(EVP_MD_CTX* ctx) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx, digest, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 15]);
  }
  return hex;
}

}  // namespace quarry::ingest
