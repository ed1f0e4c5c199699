// libarchive behind ingest/archive.h: format detection by content, entries streamed through a
// ByteSource, an expansion budget checked on every read.
#include "ingest/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <vector>

namespace quarry::ingest {
namespace {

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

struct ArchiveCloser {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveCloser>;

std::string ArchiveError(archive* a, const std::string& what) {
  const char* text = archive_error_string(a);
  return what + (text != nullptr ? std::string(": ") + text : std::string());
}

// The address space this process has mapped, in bytes (/proc/self/statm), or -1 when unknown.
std::int64_t MappedBytes() {
  int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char text[128];
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0) return -1;
  text[n] = '\0';
  char* end = nullptr;
  long long pages = std::strtoll(text, &end, 10);
  if (end == text) return -1;
  return static_cast<std::int64_t>(pages) * sysconf(_SC_PAGESIZE);
}

// How much address space the decompressor took for one step (opening a member, reading an
// entry's header), watched because libarchive's LZMA readers (zip method 14, zip xz, 7z)
// allocate the dictionary the archive declares, up to 4 GB, with no limit of their own, and
// keep up to that much of the member's output in it: a 47 KB zip of 320 MB of zeros peaked at
// 333 MiB when it declared 1,536 MB, and at 21 MiB with its honest 8 MB. The allocation
// happens before any output, so it can be seen and refused. Other threads allocate little meanwhile
// (ingest reads a member's first bytes before it starts its decoder thread).
class ReservationWatch {
 public:
  ReservationWatch() : before_(MappedBytes()) {}
  // The bytes taken since construction when more than kMaxDecompressorBytes, else 0.
  std::int64_t Excess() const {
    std::int64_t after = MappedBytes();
    if (before_ < 0 || after < 0) return 0;
    return after - before_ > kMaxDecompressorBytes ? after - before_ : 0;
  }

 private:
  std::int64_t before_;
};

std::string ReservationError(std::int64_t bytes, const std::string& where) {
  return "the archive's compression asks for " + std::to_string(bytes >> 20) +
         " MB of memory (a dictionary over " + std::to_string(kMaxDecompressorBytes >> 20) +
         " MB; a memory bomb?); reading stopped at " + where;
}

// A member's bytes, counted against the expansion budget.
class MemberSource : public ByteSource {
 public:
  MemberSource(archive* a, ExpansionBudget* budget, std::string path)
      : archive_(a), budget_(budget), path_(std::move(path)) {}

  Result<std::size_t> Read(char* out, std::size_t size) override {
    if (budget_->exceeded) return Exceeded();
    if (!refusal_.empty()) return Status(StatusCode::kCorrupt, refusal_);
    std::optional<ReservationWatch> watch;
    if (first_read_) watch.emplace();  // the member's decompressor starts here
    first_read_ = false;
    la_ssize_t n = archive_read_data(archive_, out, size);
    if (std::int64_t excess = watch ? watch->Excess() : 0; excess > 0) {
      // Nothing more is read: every further byte could be kept in that dictionary.
      refusal_ = ReservationError(excess, "member " + path_);
      return Status(StatusCode::kCorrupt, refusal_);
    }
    if (n < 0) {
      return Status(StatusCode::kIoError,
                    ArchiveError(archive_, "cannot read archive member " + path_));
    }
    budget_->used += n;
    if (budget_->used > budget_->limit) {
      budget_->exceeded = true;
      return Exceeded();
    }
    return static_cast<std::size_t>(n);
  }

  /// Why the member was refused for the memory its decompressor took, or "" when it was not.
  const std::string& refusal() const { return refusal_; }

 private:
  Status Exceeded() const {
    return Status(StatusCode::kCorrupt,
                  "archive expands past " + std::to_string(budget_->limit) +
                      " bytes (a decompression bomb?); reading stopped at member " + path_);
  }

  archive* archive_;
  ExpansionBudget* budget_;
  std::string path_;
  std::string refusal_;  // set when the decompressor took too much memory: the walk stops
  bool first_read_ = true;
};

// libarchive's read callback over a ByteSource.
struct StreamClient {
  ByteSource* source = nullptr;
  std::vector<char> buffer = std::vector<char>(1 << 16);
  std::string error;
};

la_ssize_t ReadStream(archive* a, void* data, const void** block) {
  auto* client = static_cast<StreamClient*>(data);
  Result<std::size_t> n = client->source->Read(client->buffer.data(), client->buffer.size());
  if (!n.ok()) {
    client->error = n.status().message();
    archive_set_error(a, EIO, "%s", client->error.c_str());
    return -1;
  }
  *block = client->buffer.data();
  return static_cast<la_ssize_t>(*n);
}

std::string TypeName(mode_t type) {
  switch (type) {
    case AE_IFLNK:
      return "a symbolic link";
    case AE_IFCHR:
    case AE_IFBLK:
      return "a device";
    case AE_IFIFO:
      return "a FIFO";
    case AE_IFSOCK:
      return "a socket";
    default:
      return "not a regular file";
  }
}

}  // namespace

std::string ArchiveKind(std::string_view head) {
  using namespace std::string_view_literals;
  if (StartsWith(head, "PK\x03\x04"sv) || StartsWith(head, "PK\x05\x06"sv) ||
      StartsWith(head, "PK\x07\x08"sv))
    return "zip";
  if (StartsWith(head, "7z\xBC\xAF\x27\x1C"sv)) return "7z";
  if (StartsWith(head, "\x1F\x8B"sv)) return "gzip";
  if (StartsWith(head, "BZh"sv) && head.size() > 3 && head[3] >= '1' && head[3] <= '9')
    return "bzip2";
  if (StartsWith(head,
                 "\xFD"
                 "7zXZ\x00"sv))
    return "xz";
  if (StartsWith(head, "\x28\xB5\x2F\xFD"sv)) return "zstd";
  if (StartsWith(head, "Rar!\x1A\x07"sv)) return "rar";
  if (StartsWith(head, "MSCF\0\0\0\0"sv)) return "cab";
  if (head.size() >= 262 && head.substr(257, 5) == "ustar") return "tar";
  return {};
}

Status WalkArchive(const ArchiveInput& input, const std::optional<std::string>& password,
                   ExpansionBudget* budget, const ArchiveMemberFn& on_member,
                   const ArchiveSkipFn& on_skip) {
  ArchivePtr a(archive_read_new());
  if (!a) return Status(StatusCode::kInternal, "libarchive: out of memory");
  archive_read_support_filter_all(a.get());
  archive_read_support_format_all(a.get());
  // A single compressed file (x.xml.gz) has no archive format: its one member is the raw data.
  // The raw format bids lowest, so any real archive format inside the compression wins.
  archive_read_support_format_raw(a.get());
  if (password) archive_read_add_passphrase(a.get(), password->c_str());

  StreamClient client;
  client.source = input.stream;
  if (input.path.empty() && input.memory.empty() && input.stream == nullptr) {
    return Status(StatusCode::kCorrupt, "cannot open as an archive: no bytes");  // not a crash
  }
  int opened;
  ReservationWatch opening;  // an xz or zstd filter starts decompressing here
  if (!input.path.empty()) {
    opened = archive_read_open_filename(a.get(), input.path.c_str(), 1 << 16);
  } else if (!input.memory.empty()) {
    opened = archive_read_open_memory(a.get(), input.memory.data(), input.memory.size());
  } else {
    opened = archive_read_open(a.get(), &client, nullptr, ReadStream, nullptr);
  }
  if (std::int64_t excess = opening.Excess(); excess > 0) {
    return Status(StatusCode::kCorrupt, ReservationError(excess, "its start"));
  }
  if (opened != ARCHIVE_OK) {
    return Status(StatusCode::kCorrupt, ArchiveError(a.get(), "cannot open as an archive"));
  }

  while (true) {
    archive_entry* entry = nullptr;
    ReservationWatch watch;  // 7z decompresses its header, or skips through solid data, here
    int next = archive_read_next_header(a.get(), &entry);
    if (std::int64_t excess = watch.Excess(); excess > 0) {
      return Status(StatusCode::kCorrupt, ReservationError(excess, "an entry's header"));
    }
    if (next == ARCHIVE_EOF) break;
    if (budget->exceeded) {
      return Status(StatusCode::kCorrupt, "archive expands past " + std::to_string(budget->limit) +
                                              " bytes (a decompression bomb?); reading stopped");
    }
    if (next < ARCHIVE_WARN) {
      return Status(StatusCode::kCorrupt, ArchiveError(a.get(), "damaged archive"));
    }
    ArchiveEntry item;
    const char* name = archive_entry_pathname_utf8(entry);
    if (name == nullptr) name = archive_entry_pathname(entry);
    item.path = name != nullptr ? name : "";
    if (archive_format(a.get()) == ARCHIVE_FORMAT_RAW) item.path = input.single_member_name;
    if (archive_entry_size_is_set(entry)) item.declared_size = archive_entry_size(entry);

    mode_t type = archive_entry_filetype(entry);
    if (type == AE_IFDIR) continue;
    if (const char* target = archive_entry_hardlink(entry); target != nullptr) {
      QUARRY_RETURN_IF_ERROR(
          on_skip(item, std::string("a hard link to ") + target + ", read under that name"));
      continue;
    }
    if (type != AE_IFREG && archive_format(a.get()) != ARCHIVE_FORMAT_RAW) {
      std::string reason = TypeName(type) + ", not followed";
      if (type == AE_IFLNK && archive_entry_symlink(entry) != nullptr) {
        reason =
            std::string("a symbolic link to ") + archive_entry_symlink(entry) + ", not followed";
      }
      QUARRY_RETURN_IF_ERROR(on_skip(item, reason));
      continue;
    }
    if (archive_entry_is_encrypted(entry) && !password) {
      QUARRY_RETURN_IF_ERROR(
          on_skip(item, "encrypted; give the password with --password (e.g. 'infected')"));
      continue;
    }
    MemberSource body(a.get(), budget, item.path);
    QUARRY_RETURN_IF_ERROR(on_member(item, &body));
    // Skipping the rest of the member could decompress it (7z solid data): stop here.
    if (!body.refusal().empty()) return Status(StatusCode::kCorrupt, body.refusal());
    if (budget->exceeded) {
      return Status(StatusCode::kCorrupt, "archive expands past " + std::to_string(budget->limit) +
                                              " bytes (a decompression bomb?); reading stopped");
    }
  }
  return Status::Ok();
}

}  // namespace quarry::ingest
