// Checksummed, length-prefixed records in an append-only file (the write-ahead log and snapshots).
//
// Record layout (little-endian):
//   u32 magic "TNDR" | u32 type | u64 payload length | u32 crc32(payload) | u32 crc32(header[0:20])
//   payload bytes
// The header checksum protects the length, so a torn or overwritten header is detected instead of
// being trusted; the payload checksum detects a torn or corrupt payload.
#ifndef TANDEM_REPLAY_SERVER_RECORD_IO_H_
#define TANDEM_REPLAY_SERVER_RECORD_IO_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tandem::replay {

enum class RecordType : uint32_t {
  // A serialized TransitionSpec; first record of every log and snapshot file.
  kSpec = 1,
  // A serialized TransitionBatch.
  kBatch = 2,
  // End of a snapshot; payload is the decimal number of transitions it holds.
  kEnd = 3,
};

inline constexpr size_t kRecordHeaderBytes = 24;

// Appends records to a file. Not thread-safe.
class RecordWriter {
 public:
  // Opens `path` for appending, creating it if needed (truncating it first if `truncate`).
  static absl::StatusOr<std::unique_ptr<RecordWriter>> Open(const std::string& path, bool truncate);
  ~RecordWriter();

  // Writes one record (header and payload with one writev).
  absl::Status Append(RecordType type, const std::string& payload);
  // Flushes the file's data to stable storage (fdatasync).
  absl::Status Sync();
  // Bytes in the file.
  int64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  RecordWriter(std::string path, int fd, int64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  std::string path_;
  int fd_;
  int64_t size_;
};

// Reads records sequentially. Not thread-safe.
class RecordReader {
 public:
  static absl::StatusOr<std::unique_ptr<RecordReader>> Open(const std::string& path);
  ~RecordReader();

  // Reads the next record. Returns OUT_OF_RANGE at a clean end of file and DATA_LOSS (naming the
  // offset) for a torn or corrupt record; `valid_bytes()` then tells where the good data ends.
  absl::Status Next(RecordType* type, std::string* payload);
  // Offset just past the last record read successfully.
  int64_t valid_bytes() const { return offset_; }
  // Size of the file.
  int64_t file_size() const { return file_size_; }

 private:
  RecordReader(std::string path, int fd, int64_t file_size)
      : path_(std::move(path)), fd_(fd), file_size_(file_size) {}
  std::string path_;
  int fd_;
  int64_t file_size_;
  int64_t offset_ = 0;
};

}  // namespace tandem::replay

#endif  // TANDEM_REPLAY_SERVER_RECORD_IO_H_
