// Fuzzes recovery from a write-ahead log or snapshot file: read records until the end or the first
// torn/corrupt one, parse spec and batch payloads and validate batches against the spec, as
// WriteAheadLog::Open does. Input: the file's bytes.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "common/transition_schema.h"
#include "proto/transition.pb.h"
#include "replay_server/record_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  char path[] = "/tmp/tandem_fuzz_wal_XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return 0;
  if (size > 0 && write(fd, data, size) != static_cast<ssize_t>(size)) {
    close(fd);
    unlink(path);
    return 0;
  }
  close(fd);
  auto reader = tandem::replay::RecordReader::Open(path);
  if (reader.ok()) {
    std::optional<tandem::TransitionSchema> schema;
    tandem::replay::RecordType type;
    std::string payload;
    for (int records = 0; records < 1000; ++records) {
      if (!(*reader)->Next(&type, &payload).ok()) break;
      if (type == tandem::replay::RecordType::kSpec) {
        tandem::TransitionSpec spec;
        if (!spec.ParseFromString(payload)) break;
        auto created = tandem::TransitionSchema::Create(spec);
        if (!created.ok()) break;
        schema = std::move(*created);
      } else if (type == tandem::replay::RecordType::kBatch) {
        tandem::TransitionBatch batch;
        if (!batch.ParseFromString(payload) || !schema.has_value()) break;
        (void)schema->Validate(batch);
      }
    }
    (void)(*reader)->valid_bytes();
  }
  unlink(path);
  return 0;
}
