#include "replay_server/record_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace tandem::replay {
namespace {

constexpr uint32_t kMagic = 0x52444e54;  // "TNDR" little-endian

uint32_t Crc32(const char* data, size_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths; feed large payloads in pieces.
  while (size > 0) {
    const uInt piece = static_cast<uInt>(std::min<size_t>(size, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data), piece);
    data += piece;
    size -= piece;
  }
  return static_cast<uint32_t>(crc);
}

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

// Reads exactly `size` bytes at `offset`; returns the number read (less at end of file).
int64_t ReadAt(int fd, char* out, size_t size, int64_t offset) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = pread(fd, out + done, size - done, offset + static_cast<int64_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  return static_cast<int64_t>(done);
}

}  // namespace

absl::StatusOr<std::unique_ptr<RecordWriter>> RecordWriter::Open(const std::string& path,
                                                                 bool truncate) {
  const int fd = open(path.c_str(),
                      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0644);
  if (fd < 0) return Errno("cannot open", path);
  struct stat st {};
  fstat(fd, &st);
  return std::unique_ptr<RecordWriter>(new RecordWriter(path, fd, st.st_size));
}

RecordWriter::~RecordWriter() { close(fd_); }

absl::Status RecordWriter::Append(RecordType type, const std::string& payload) {
  char header[kRecordHeaderBytes];
  const uint32_t magic = kMagic;
  const uint32_t type_value = static_cast<uint32_t>(type);
  const uint64_t length = payload.size();
  const uint32_t payload_crc = Crc32(payload.data(), payload.size());
  std::memcpy(header, &magic, 4);
  std::memcpy(header + 4, &type_value, 4);
  std::memcpy(header + 8, &length, 8);
  std::memcpy(header + 16, &payload_crc, 4);
  const uint32_t header_crc = Crc32(header, 20);
  std::memcpy(header + 20, &header_crc, 4);

  iovec parts[2] = {{header, kRecordHeaderBytes},
                    {const_cast<char*>(payload.data()), payload.size()}};
  const int64_t start_size = size_;
  size_t remaining = kRecordHeaderBytes + payload.size();
  int first = 0;
  while (remaining > 0) {
    const ssize_t n = writev(fd_, parts + first, 2 - first);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status error = Errno("cannot write", path_);
      // Never leave half a record behind valid ones: cut the file back to its last record.
      if (ftruncate(fd_, start_size) == 0) size_ = start_size;
      return error;
    }
    remaining -= static_cast<size_t>(n);
    size_ += n;
    size_t advance = static_cast<size_t>(n);
    while (first < 2 && advance >= parts[first].iov_len) advance -= parts[first++].iov_len;
    if (first < 2) {
      parts[first].iov_base = static_cast<char*>(parts[first].iov_base) + advance;
      parts[first].iov_len -= advance;
    }
  }
  return absl::OkStatus();
}

absl::Status RecordWriter::Sync() {
  if (fdatasync(fd_) != 0) return Errno("cannot fsync", path_);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<RecordReader>> RecordReader::Open(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  struct stat st {};
  fstat(fd, &st);
  return std::unique_ptr<RecordReader>(new RecordReader(path, fd, st.st_size));
}

RecordReader::~RecordReader() { close(fd_); }

absl::Status RecordReader::Next(RecordType* type, std::string* payload) {
  if (offset_ == file_size_) return absl::OutOfRangeError("end of file");
  auto torn = [&](absl::string_view why) {
    return absl::DataLossError(absl::StrCat(path_, ": ", why, " at offset ", offset_, " (",
                                            file_size_ - offset_, " bytes to the end)"));
  };
  char header[kRecordHeaderBytes];
  if (ReadAt(fd_, header, kRecordHeaderBytes, offset_) != kRecordHeaderBytes) {
    return torn("truncated record header");
  }
  uint32_t magic, type_value, payload_crc, header_crc;
  uint64_t length;
  std::memcpy(&magic, header, 4);
  std::memcpy(&type_value, header + 4, 4);
  std::memcpy(&length, header + 8, 8);
  std::memcpy(&payload_crc, header + 16, 4);
  std::memcpy(&header_crc, header + 20, 4);
  if (magic != kMagic || Crc32(header, 20) != header_crc) return torn("corrupt record header");
  if (type_value < 1 || type_value > 3) return torn("unknown record type");
  if (length > static_cast<uint64_t>(file_size_ - offset_ - kRecordHeaderBytes)) {
    return torn("truncated record payload");
  }
  payload->resize(length);
  if (ReadAt(fd_, payload->data(), length, offset_ + kRecordHeaderBytes) !=
      static_cast<int64_t>(length)) {
    return torn("short read of record payload");
  }
  if (Crc32(payload->data(), payload->size()) != payload_crc)
    return torn("payload checksum mismatch");
  *type = static_cast<RecordType>(type_value);
  offset_ += kRecordHeaderBytes + static_cast<int64_t>(length);
  return absl::OkStatus();
}

}  // namespace tandem::replay
