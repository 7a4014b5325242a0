#include "common/config.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace tandem {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Keeps the first parse error, with the field name taken from the offending line when possible.
class FirstErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  FirstErrorCollector(absl::string_view source_name, absl::string_view text)
      : source_name_(source_name), lines_(absl::StrSplit(text, '\n')) {}

  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (!error_.empty()) return;
    std::string field;
    if (line >= 0 && line < static_cast<int>(lines_.size()))
      field = FieldBefore(lines_[line], column);
    error_ = absl::StrCat(source_name_, ":", line + 1, ":", column + 1, ": ",
                          field.empty() ? "" : absl::StrCat("field \"", field, "\": "), message);
  }

  const std::string& error() const { return error_; }

 private:
  // The field name that ends before `column` on `line`: the identifier before the last ':' or '{'
  // (text format's "name: value" and "name {"), or the first identifier on the line.
  static std::string FieldBefore(absl::string_view line, int column) {
    absl::string_view prefix = line.substr(0, std::min<size_t>(line.size(), column + 1));
    size_t sep = prefix.find_last_of(":{");
    if (sep == absl::string_view::npos) sep = line.find_first_of(" :{");
    if (sep == absl::string_view::npos) return "";
    size_t end = sep;
    while (end > 0 && absl::ascii_isspace(static_cast<unsigned char>(line[end - 1]))) --end;
    size_t begin = end;
    while (begin > 0 && (absl::ascii_isalnum(static_cast<unsigned char>(line[begin - 1])) ||
                         line[begin - 1] == '_')) {
      --begin;
    }
    return std::string(line.substr(begin, end - begin));
  }

  std::string source_name_;
  std::vector<std::string> lines_;
  std::string error_;
};

// Human name of a field's type for error messages.
std::string TypeName(const FieldDescriptor* field) {
  if (field->type() == FieldDescriptor::TYPE_ENUM) {
    std::string names;
    for (int i = 0; i < field->enum_type()->value_count(); ++i) {
      absl::StrAppend(&names, i == 0 ? "" : "|", field->enum_type()->value(i)->name());
    }
    return absl::StrCat("one of ", names);
  }
  if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
    return absl::StrCat("a ", field->message_type()->name(), " message");
  }
  return std::string(field->cpp_type_name());
}

// Finds an enum value by full name or by the part after the type's common prefix, ignoring case
// ("FSYNC_NEVER", "never", "Never").
const EnumValueDescriptor* FindEnumValue(const FieldDescriptor* field, absl::string_view text) {
  const std::string upper = absl::AsciiStrToUpper(text);
  for (int i = 0; i < field->enum_type()->value_count(); ++i) {
    const EnumValueDescriptor* value = field->enum_type()->value(i);
    const std::string& name = value->name();
    if (name == upper || absl::EndsWith(name, absl::StrCat("_", upper))) return value;
  }
  int64_t number = 0;
  if (absl::SimpleAtoi(text, &number)) {
    return field->enum_type()->FindValueByNumber(static_cast<int>(number));
  }
  return nullptr;
}

// Sets (or, for repeated fields, appends) one scalar value parsed from `text`.
absl::Status SetScalar(const FieldDescriptor* field, absl::string_view text, Message* message,
                       absl::string_view flag) {
  const Reflection* reflection = message->GetReflection();
  const bool repeated = field->is_repeated();
  auto bad = [&]() {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": field ", field->name(), " expects ",
                                                   TypeName(field), ", got \"", text, "\""));
  };
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t v;
      if (!absl::SimpleAtoi(text, &v)) return bad();
      repeated ? reflection->AddInt32(message, field, v) : reflection->SetInt32(message, field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t v;
      if (!absl::SimpleAtoi(text, &v)) return bad();
      repeated ? reflection->AddInt64(message, field, v) : reflection->SetInt64(message, field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t v;
      if (!absl::SimpleAtoi(text, &v)) return bad();
      repeated ? reflection->AddUInt32(message, field, v)
               : reflection->SetUInt32(message, field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t v;
      if (!absl::SimpleAtoi(text, &v)) return bad();
      repeated ? reflection->AddUInt64(message, field, v)
               : reflection->SetUInt64(message, field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      double v;
      if (!absl::SimpleAtod(text, &v)) return bad();
      repeated ? reflection->AddDouble(message, field, v)
               : reflection->SetDouble(message, field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_FLOAT: {
      float v;
      if (!absl::SimpleAtof(text, &v)) return bad();
      repeated ? reflection->AddFloat(message, field, v) : reflection->SetFloat(message, field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      bool v;
      if (!absl::SimpleAtob(text, &v)) return bad();
      repeated ? reflection->AddBool(message, field, v) : reflection->SetBool(message, field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string v(text);
      repeated ? reflection->AddString(message, field, v)
               : reflection->SetString(message, field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const EnumValueDescriptor* v = FindEnumValue(field, text);
      if (v == nullptr) return bad();
      repeated ? reflection->AddEnum(message, field, v) : reflection->SetEnum(message, field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      std::string inner(text);
      if (absl::ConsumePrefix(&text, "{") && absl::ConsumeSuffix(&text, "}"))
        inner = std::string(text);
      Message* sub = repeated ? reflection->AddMessage(message, field)
                              : reflection->MutableMessage(message, field);
      return ParseTextProto(inner, absl::StrCat(flag, " (value)"), sub);
    }
  }
  return absl::OkStatus();
}

// Sets map entry `key` of map field `field` to `value`.
absl::Status SetMapEntry(const FieldDescriptor* field, absl::string_view key,
                         absl::string_view value, Message* message, absl::string_view flag) {
  const Reflection* reflection = message->GetReflection();
  const Descriptor* entry_type = field->message_type();
  const FieldDescriptor* key_field = entry_type->map_key();
  const FieldDescriptor* value_field = entry_type->map_value();
  if (key_field->cpp_type() != FieldDescriptor::CPPTYPE_STRING) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": map field ", field->name(), " has non-string keys"));
  }
  Message* entry = nullptr;
  for (int i = 0; i < reflection->FieldSize(*message, field); ++i) {
    Message* candidate = reflection->MutableRepeatedMessage(message, field, i);
    if (candidate->GetReflection()->GetString(*candidate, key_field) == key) entry = candidate;
  }
  if (entry == nullptr) {
    entry = reflection->AddMessage(message, field);
    entry->GetReflection()->SetString(entry, key_field, std::string(key));
  }
  return SetScalar(value_field, value, entry, flag);
}

}  // namespace

absl::Status ParseTextProto(absl::string_view text, absl::string_view source_name,
                            Message* message) {
  FirstErrorCollector errors(source_name, text);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), message)) {
    return absl::InvalidArgumentError(errors.error().empty()
                                          ? absl::StrCat(source_name, ": invalid text proto")
                                          : errors.error());
  }
  return absl::OkStatus();
}

absl::Status ReadTextProtoFile(const std::string& path, Message* message) {
  if (path.empty()) return absl::InvalidArgumentError("config path is empty");
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(absl::StrCat(path, ": cannot open config file"));
  std::stringstream contents;
  contents << file.rdbuf();
  if (file.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return ParseTextProto(contents.str(), path, message);
}

absl::Status ApplyOverride(absl::string_view assignment, Message* message) {
  const std::string flag = absl::StrCat("--set ", assignment);
  const size_t eq = assignment.find('=');
  if (eq == absl::string_view::npos || eq == 0) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": expected path=value"));
  }
  const absl::string_view path = assignment.substr(0, eq);
  const absl::string_view value = assignment.substr(eq + 1);
  const std::vector<absl::string_view> parts = absl::StrSplit(path, '.');
  Message* current = message;
  std::string walked;
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* field = current->GetDescriptor()->FindFieldByName(std::string(parts[i]));
    absl::StrAppend(&walked, i == 0 ? "" : ".", parts[i]);
    if (field == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(flag, ": ", current->GetDescriptor()->name(),
                                                     " has no field \"", parts[i], "\" (in ",
                                                     walked, ")"));
    }
    const bool last = i + 1 == parts.size();
    if (field->is_map()) {
      if (last) {
        return absl::InvalidArgumentError(absl::StrCat(
            flag, ": map field ", walked, " needs a key, e.g. ", walked, ".KEY=VALUE"));
      }
      std::vector<absl::string_view> rest(parts.begin() + i + 1, parts.end());
      return SetMapEntry(field, absl::StrJoin(rest, "."), value, current, flag);
    }
    if (last) {
      if (field->is_repeated()) {
        current->GetReflection()->ClearField(current, field);
        if (value.empty()) return absl::OkStatus();
        for (absl::string_view item : absl::StrSplit(value, ',')) {
          RETURN_IF_ERROR(SetScalar(field, absl::StripAsciiWhitespace(item), current, flag));
        }
        return absl::OkStatus();
      }
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        current->GetReflection()->ClearField(current, field);
      }
      return SetScalar(field, value, current, flag);
    }
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || field->is_repeated()) {
      return absl::InvalidArgumentError(absl::StrCat(
          flag, ": ", walked, " is not a message, so it has no field \"", parts[i + 1], "\""));
    }
    current = current->GetReflection()->MutableMessage(current, field);
  }
  return absl::OkStatus();
}

void FillDefaults(Message* message) {
  const Descriptor* descriptor = message->GetDescriptor();
  const Reflection* reflection = message->GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (field->containing_oneof() != nullptr) continue;
    if (field->is_repeated()) {
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !field->is_map()) {
        for (int k = 0; k < reflection->FieldSize(*message, field); ++k) {
          FillDefaults(reflection->MutableRepeatedMessage(message, field, k));
        }
      }
      continue;
    }
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      FillDefaults(reflection->MutableMessage(message, field));
      continue;
    }
    if (!field->has_presence() || reflection->HasField(*message, field)) continue;
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        reflection->SetInt32(message, field, field->default_value_int32());
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        reflection->SetInt64(message, field, field->default_value_int64());
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        reflection->SetUInt32(message, field, field->default_value_uint32());
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        reflection->SetUInt64(message, field, field->default_value_uint64());
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        reflection->SetDouble(message, field, field->default_value_double());
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        reflection->SetFloat(message, field, field->default_value_float());
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        reflection->SetBool(message, field, field->default_value_bool());
        break;
      case FieldDescriptor::CPPTYPE_STRING:
        reflection->SetString(message, field, field->default_value_string());
        break;
      case FieldDescriptor::CPPTYPE_ENUM:
        reflection->SetEnum(message, field, field->default_value_enum());
        break;
      case FieldDescriptor::CPPTYPE_MESSAGE:
        break;
    }
  }
}

namespace {

// Collects the first violated rule of a configuration.
class Checker {
 public:
  // Requires lo <= value <= hi (or lo < value when `open_low`).
  template <typename T>
  void InRange(absl::string_view field, T value, T lo, T hi, bool open_low = false) {
    const bool ok = !(std::isnan(static_cast<double>(value))) &&
                    (open_low ? value > lo : value >= lo) && value <= hi;
    if (!ok) {
      Fail(field,
           absl::StrCat("must be in ", open_low ? "(" : "[", lo, ", ", hi, "], got ", value));
    }
  }
  template <typename T>
  void AtLeast(absl::string_view field, T value, T lo) {
    if (!(value >= lo)) Fail(field, absl::StrCat("must be >= ", lo, ", got ", value));
  }
  void Positive(absl::string_view field, double value) {
    if (!(value > 0)) Fail(field, absl::StrCat("must be > 0, got ", value));
  }
  void Require(bool ok, absl::string_view field, absl::string_view problem) {
    if (!ok) Fail(field, problem);
  }
  void Address(absl::string_view field, const std::string& value) {
    const size_t colon = value.rfind(':');
    int port = -1;
    if (colon == std::string::npos || colon == 0 ||
        !absl::SimpleAtoi(absl::string_view(value).substr(colon + 1), &port) || port < 0 ||
        port > 65535) {
      Fail(field, absl::StrCat("must be host:port with port 0-65535, got \"", value, "\""));
    }
  }
  absl::Status status() const { return status_; }

 private:
  void Fail(absl::string_view field, absl::string_view problem) {
    if (status_.ok()) status_ = absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
  }
  absl::Status status_;
};

}  // namespace

bool EpisodeItems(const ReplayConfig& replay) {
  return replay.tables_size() > 0 && replay.tables(0).item_kind() == TableConfig::ITEM_KIND_EPISODE;
}

absl::Status ValidateExperimentConfig(const ExperimentConfig& config) {
  Checker c;
  c.Require(!config.name().empty(), "name", "must not be empty");

  const EnvConfig& env = config.env();
  c.Require(absl::StrContains(env.name(), '/'), "env.name",
            absl::StrCat("must be <family>/<task>, e.g. mamujoco/HalfCheetah-6x1, got \"",
                         env.name(), "\""));
  c.AtLeast("env.episode_limit", env.episode_limit(), 0);

  const AlgorithmConfig& algo = config.algorithm();
  c.Require(!algo.name().empty(), "algorithm.name", "must not be empty");
  c.InRange("algorithm.discount", algo.discount(), 0.0, 1.0);
  c.InRange("algorithm.target_update_rate", algo.target_update_rate(), 0.0, 1.0, true);
  c.AtLeast("algorithm.hidden_size", algo.hidden_size(), 1);
  c.AtLeast("algorithm.mixer_hidden_size", algo.mixer_hidden_size(), 1);
  c.Positive("algorithm.learning_rate", algo.learning_rate());
  c.Positive("algorithm.max_grad_norm", algo.max_grad_norm());
  c.Positive("algorithm.omiga.alpha", algo.omiga().alpha());
  c.Positive("algorithm.omiga.z_clip", algo.omiga().z_clip());
  const std::string& online_update = algo.omiga().online_update();
  c.Require(online_update == "omiga" || online_update == "awac" || online_update == "proto" ||
                online_update == "rlpd",
            "algorithm.omiga.online_update",
            absl::StrCat("must be omiga, awac, proto or rlpd, got \"", online_update, "\""));
  const RlpdConfig& rlpd = algo.omiga().rlpd();
  c.InRange("algorithm.omiga.rlpd.critics", rlpd.critics(), 1, 100);
  c.InRange("algorithm.omiga.rlpd.target_subset", rlpd.target_subset(), 1, rlpd.critics());
  c.InRange("algorithm.omiga.rlpd.updates_per_batch", rlpd.updates_per_batch(), 1, 1000);
  c.Positive("algorithm.omiga.rlpd.initial_temperature", rlpd.initial_temperature());
  c.Positive("algorithm.omiga.awac.lambda", algo.omiga().awac().lambda());
  c.Positive("algorithm.omiga.awac.max_weight", algo.omiga().awac().max_weight());
  c.AtLeast("algorithm.omiga.proto.kl_weight_start", algo.omiga().proto().kl_weight_start(), 0.0);
  c.AtLeast("algorithm.omiga.proto.kl_weight_end", algo.omiga().proto().kl_weight_end(), 0.0);
  c.AtLeast("algorithm.omiga.proto.kl_anneal_env_steps", algo.omiga().proto().kl_anneal_env_steps(),
            int64_t{1});
  c.InRange("algorithm.omiga.proto.reference_update_rate",
            algo.omiga().proto().reference_update_rate(), 0.0, 1.0, true);
  c.Positive("algorithm.omiga.proto.initial_temperature",
             algo.omiga().proto().initial_temperature());
  c.InRange("algorithm.ovm.lambda_end", algo.ovm().lambda_end(), 0.0, 1.0);
  c.AtLeast("algorithm.ovm.anneal_env_steps", algo.ovm().anneal_env_steps(), int64_t{1});

  const SelectorConfig& sel = config.selector();
  c.Require(!sel.name().empty(), "selector.name", "must not be empty");
  c.AtLeast("selector.beam_width", sel.beam_width(), 1);
  c.Positive("selector.temperature", sel.temperature());
  c.InRange("selector.epsilon_start", sel.epsilon_start(), 0.0, 1.0);
  c.InRange("selector.epsilon_end", sel.epsilon_end(), 0.0, 1.0);
  c.AtLeast("selector.epsilon_anneal_env_steps", sel.epsilon_anneal_env_steps(), int64_t{0});
  c.AtLeast("selector.noise_std", sel.noise_std(), 0.0);

  const ReplayConfig& replay = config.replay();
  c.Address("replay.address", replay.address());
  c.AtLeast("replay.online_capacity", replay.online_capacity(), int64_t{1});
  c.InRange("replay.offline_ratio", replay.offline_ratio(), 0.0, 1.0);
  c.InRange("replay.min_size_to_sample", replay.min_size_to_sample(), int64_t{0},
            replay.online_capacity());
  c.AtLeast("replay.samples_per_insert", replay.samples_per_insert(), 0.0);
  c.AtLeast("replay.error_buffer", replay.error_buffer(), 0.0);
  if (replay.samples_per_insert() > 0) {
    // Reverb's rule: a window narrower than 2*max(1, spi) can deadlock inserts and samples.
    c.Require(2 * replay.error_buffer() >= 2 * std::max(1.0, replay.samples_per_insert()),
              "replay.error_buffer",
              absl::StrCat("must be >= max(1, samples_per_insert) = ",
                           std::max(1.0, replay.samples_per_insert()),
                           " or inserts and samples can deadlock, got ", replay.error_buffer()));
  }
  c.AtLeast("replay.max_message_bytes", replay.max_message_bytes(), int64_t{1024});
  // Protobuf cannot serialize a message of 2 GiB or more.
  c.InRange("replay.max_sample_bytes", replay.max_sample_bytes(), int64_t{1024},
            int64_t{(1LL << 31) - (1LL << 20)});
  const ValidationConfig& bounds = replay.validation();
  c.AtLeast("replay.validation.max_abs_reward", bounds.max_abs_reward(), 0.0);
  c.AtLeast("replay.validation.max_abs_observation", bounds.max_abs_observation(), 0.0);
  c.Require(!std::isnan(bounds.action_box_tolerance()), "replay.validation.action_box_tolerance",
            "must be a number (negative turns the check off)");
  c.AtLeast("replay.fsync_interval_ms", replay.fsync_interval_ms(), int64_t{1});
  c.AtLeast("replay.snapshot_every_bytes", replay.snapshot_every_bytes(), int64_t{1});
  std::set<std::string> table_names;
  for (int i = 0; i < replay.tables_size(); ++i) {
    const TableConfig& table = replay.tables(i);
    const std::string field = absl::StrCat("replay.tables[", i, "]");
    const bool name_ok =
        !table.name().empty() && std::all_of(table.name().begin(), table.name().end(), [](char ch) {
          return absl::ascii_isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-';
        });
    c.Require(name_ok, field + ".name",
              absl::StrCat("must be letters, digits, '_' or '-', got \"", table.name(), "\""));
    c.Require(table.name() != "offline", field + ".name",
              "\"offline\" is the dataset's read-only table");
    c.Require(table_names.insert(table.name()).second, field + ".name",
              absl::StrCat("table \"", table.name(), "\" is declared twice"));
    c.AtLeast(field + ".capacity", table.capacity(), int64_t{1});
    c.AtLeast(field + ".priority_exponent", table.priority_exponent(), 0.0);
    c.Require(table.selector() != TableConfig::SELECTOR_UNSPECIFIED, field + ".selector",
              "must be SELECTOR_UNIFORM, SELECTOR_FIFO or SELECTOR_PRIORITIZED");
    c.Require(table.item_kind() != TableConfig::ITEM_KIND_UNSPECIFIED, field + ".item_kind",
              "must be ITEM_KIND_TRANSITION or ITEM_KIND_EPISODE");
    c.Require(table.item_kind() == replay.tables(0).item_kind(), field + ".item_kind",
              "every table of one replay server holds the same kind of item (one shape)");
  }

  const LearnerConfig& learner = config.learner();
  c.Require(learner.device() == "auto" || learner.device() == "cpu" || learner.device() == "cuda",
            "learner.device",
            absl::StrCat("must be auto, cpu or cuda, got \"", learner.device(), "\""));
  c.AtLeast("learner.batch_size", learner.batch_size(), 1);
  c.AtLeast("learner.offline_updates", learner.offline_updates(), int64_t{0});
  c.AtLeast("learner.online_env_steps", learner.online_env_steps(), int64_t{0});
  c.AtLeast("learner.publish_every_updates", learner.publish_every_updates(), 1);
  c.AtLeast("learner.max_nonfinite_updates", learner.max_nonfinite_updates(), 1);
  c.AtLeast("learner.checkpoint_every_seconds", learner.checkpoint_every_seconds(), 0.0);
  c.AtLeast("learner.checkpoint_every_updates", learner.checkpoint_every_updates(), int64_t{1});
  c.AtLeast("learner.prefetch_batches", learner.prefetch_batches(), 1);
  c.AtLeast("learner.num_learners", learner.num_learners(), 1);
  c.AtLeast("learner.torch_threads", learner.torch_threads(), 0);
  c.AtLeast("learner.probe_every_updates", learner.probe_every_updates(), 0);
  c.InRange("learner.update_streams", learner.update_streams(), 0, 2);
  c.Address("learner.parameter_address", learner.parameter_address());

  const ActorConfig& actors = config.actors();
  c.AtLeast("actors.num_actors", actors.num_actors(), 0);
  c.AtLeast("actors.envs_per_actor", actors.envs_per_actor(), 1);
  c.AtLeast("actors.send_batch_transitions", actors.send_batch_transitions(), 1);
  c.AtLeast("actors.max_buffered_transitions", actors.max_buffered_transitions(),
            static_cast<int64_t>(actors.send_batch_transitions()));
  c.AtLeast("actors.reconnect_initial_ms", actors.reconnect_initial_ms(), int64_t{1});
  c.AtLeast("actors.reconnect_max_ms", actors.reconnect_max_ms(), actors.reconnect_initial_ms());
  c.AtLeast("actors.threads", actors.threads(), 1);
  c.AtLeast("actors.random_warmup_steps", actors.random_warmup_steps(), int64_t{0});
  c.AtLeast("actors.record_segment_transitions", actors.record_segment_transitions(), int64_t{1});

  const EvaluationConfig& eval = config.evaluation();
  c.AtLeast("evaluation.episodes", eval.episodes(), 0);
  c.AtLeast("evaluation.every_versions", eval.every_versions(), 1);
  c.AtLeast("evaluation.every_env_steps", eval.every_env_steps(), int64_t{0});
  c.Require(std::isnan(eval.random_return()) || std::isnan(eval.expert_return()) ||
                eval.random_return() != eval.expert_return(),
            "evaluation.expert_return", "must differ from evaluation.random_return");

  const MetricsConfig& metrics = config.metrics();
  c.Address("metrics.replay_address", metrics.replay_address());
  c.Address("metrics.learner_address", metrics.learner_address());
  c.Address("metrics.actor_address", metrics.actor_address());
  c.Positive("metrics.csv_interval_seconds", metrics.csv_interval_seconds());

  const SecurityConfig& security = config.security();
  c.Require(security.tls_cert_file().empty() == security.tls_key_file().empty(),
            "security.tls_key_file", "tls_cert_file and tls_key_file must be set together");

  const CollectionConfig& collection = config.collection();
  c.AtLeast("collection.episodes", collection.episodes(), 1);
  c.AtLeast("collection.evaluation_episodes", collection.evaluation_episodes(), 1);
  c.AtLeast("collection.action_noise", collection.action_noise(), 0.0);
  c.Require(collection.medium_min() > 0 && collection.medium_min() <= collection.medium_target() &&
                collection.medium_target() <= collection.medium_max() &&
                collection.medium_max() < 1,
            "collection.medium_target", "needs 0 < medium_min <= medium_target <= medium_max < 1");

  const RunConfig& run = config.run();
  c.AtLeast("run.collect_random_steps", run.collect_random_steps(), int64_t{0});
  c.Require(run.collect_config().empty() || run.collect_random_steps() == 0, "run.collect_config",
            "excludes run.collect_random_steps (one way to create the dataset)");
  c.AtLeast("run.max_restarts", run.max_restarts(), 0);
  c.Positive("run.progress_interval_seconds", run.progress_interval_seconds());
  c.Positive("run.health_timeout_seconds", run.health_timeout_seconds());
  c.AtLeast("run.final_evaluation_episodes", run.final_evaluation_episodes(), 0);
  return c.status();
}

namespace {

// Clears in `to` every repeated field (lists and maps) that `from` sets, through the singular
// messages both set, so a MergeFrom afterwards replaces those lists instead of appending to them.
void ClearListsSetIn(const Message& from, Message* to) {
  const google::protobuf::Reflection* from_reflection = from.GetReflection();
  const google::protobuf::Reflection* to_reflection = to->GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  from_reflection->ListFields(from, &fields);
  for (const google::protobuf::FieldDescriptor* field : fields) {
    if (field->is_repeated()) {
      to_reflection->ClearField(to, field);
    } else if (field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE &&
               to_reflection->HasField(*to, field)) {
      ClearListsSetIn(from_reflection->GetMessage(from, field),
                      to_reflection->MutableMessage(to, field));
    }
  }
}

// Reads `path` and the chain of `base` files under it; `chain` lists the files being read.
absl::Status ReadWithBases(const std::string& path, std::vector<std::string>& chain,
                           ExperimentConfig* config) {
  constexpr size_t kMaxDepth = 8;
  if (std::find(chain.begin(), chain.end(), path) != chain.end() || chain.size() >= kMaxDepth) {
    std::string trail;
    for (const std::string& file : chain) absl::StrAppend(&trail, file, " -> ");
    return absl::InvalidArgumentError(
        absl::StrCat("base: ", trail, path,
                     chain.size() >= kMaxDepth ? " is too deep (8 files at most)" : " is a cycle"));
  }
  ExperimentConfig own;
  RETURN_IF_ERROR(ReadTextProtoFile(path, &own));
  if (own.base().empty()) {
    *config = std::move(own);
    return absl::OkStatus();
  }
  const std::filesystem::path base =
      std::filesystem::path(path).parent_path() / std::filesystem::path(own.base());
  chain.push_back(path);
  ExperimentConfig merged;
  absl::Status read = ReadWithBases(base.lexically_normal().string(), chain, &merged);
  chain.pop_back();
  if (!read.ok()) {
    return absl::Status(read.code(),
                        absl::StrCat(path, ": base \"", own.base(), "\": ", read.message()));
  }
  own.clear_base();
  ClearListsSetIn(own, &merged);
  merged.MergeFrom(own);
  *config = std::move(merged);
  return absl::OkStatus();
}

// Where `field` ("replay.tables[1].capacity") is set in the text-proto file `path`: its line
// (1-based), or 0 when the file does not set it (or cannot be read again).
int LineOfField(const std::string& path, absl::string_view field) {
  std::ifstream file(path);
  if (!file) return 0;
  std::stringstream contents;
  contents << file.rdbuf();
  ExperimentConfig parsed;
  google::protobuf::TextFormat::ParseInfoTree tree;
  google::protobuf::TextFormat::Parser parser;
  parser.WriteLocationsTo(&tree);
  if (!parser.ParseFromString(contents.str(), &parsed)) return 0;
  const google::protobuf::Descriptor* descriptor = ExperimentConfig::descriptor();
  const google::protobuf::TextFormat::ParseInfoTree* node = &tree;
  const std::vector<absl::string_view> parts = absl::StrSplit(field, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    absl::string_view name = parts[i];
    int index = -1;
    if (const size_t bracket = name.find('['); bracket != absl::string_view::npos) {
      if (!absl::SimpleAtoi(name.substr(bracket + 1, name.size() - bracket - 2), &index)) return 0;
      name = name.substr(0, bracket);
    }
    const FieldDescriptor* fd = descriptor->FindFieldByName(std::string(name));
    if (fd == nullptr) return 0;
    if (fd->is_repeated() && index < 0) index = 0;
    if (!fd->is_repeated()) index = -1;
    const bool last =
        i + 1 == parts.size() || fd->type() != FieldDescriptor::TYPE_MESSAGE || fd->is_map();
    if (last) {
      const google::protobuf::TextFormat::ParseLocation location = node->GetLocation(fd, index);
      return location.line >= 0 ? location.line + 1 : 0;
    }
    node = node->GetTreeForNested(fd, index);
    if (node == nullptr) return 0;
    descriptor = fd->message_type();
  }
  return 0;
}

// Prefixes a validation error with what set the offending value: the last `--set` whose path is
// the field or one of its parents, else the file (and line) of the base chain that sets it.
absl::Status AttributeValidationError(const absl::Status& error, const std::string& path,
                                      const std::vector<std::string>& overrides) {
  const absl::string_view message = error.message();
  const absl::string_view field = message.substr(0, message.find(": "));
  const bool is_path = !field.empty() && field.find(' ') == absl::string_view::npos;
  if (is_path) {
    for (auto it = overrides.rbegin(); it != overrides.rend(); ++it) {
      const absl::string_view target = absl::string_view(*it).substr(0, it->find('='));
      if (field == target || absl::StartsWith(field, absl::StrCat(target, ".")) ||
          absl::StartsWith(field, absl::StrCat(target, "["))) {
        return absl::InvalidArgumentError(absl::StrCat("--set ", *it, ": ", message));
      }
    }
    // The file itself, then its bases: the first that sets the field is the one that won.
    std::string file = path;
    for (int depth = 0; depth < 8 && !file.empty(); ++depth) {
      if (const int line = LineOfField(file, field); line > 0) {
        return absl::InvalidArgumentError(absl::StrCat(file, ":", line, ": ", message));
      }
      ExperimentConfig own;
      if (!ReadTextProtoFile(file, &own).ok() || own.base().empty()) break;
      file = (std::filesystem::path(file).parent_path() / own.base()).lexically_normal().string();
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", message));
}

}  // namespace

absl::StatusOr<ExperimentConfig> LoadExperimentConfig(const std::string& path,
                                                      const std::vector<std::string>& overrides) {
  ExperimentConfig config;
  std::vector<std::string> chain;
  RETURN_IF_ERROR(ReadWithBases(path, chain, &config));
  for (const std::string& assignment : overrides) {
    RETURN_IF_ERROR(ApplyOverride(assignment, &config));
  }
  if (!config.base().empty()) {
    return absl::InvalidArgumentError(
        "base: names a file to extend inside a configuration file, not as an override");
  }
  FillDefaults(&config);
  absl::Status valid = ValidateExperimentConfig(config);
  if (!valid.ok()) return AttributeValidationError(valid, path, overrides);
  // env.episode_limit reaches every env through its options (the one place envs are configured).
  if (config.env().episode_limit() > 0) {
    auto& options = *config.mutable_env()->mutable_options();
    if (options.count("episode_limit") > 0 &&
        options.at("episode_limit") != std::to_string(config.env().episode_limit())) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": env.episode_limit and env.options[episode_limit] disagree"));
    }
    options["episode_limit"] = std::to_string(config.env().episode_limit());
  }
  return config;
}

ExperimentConfig DefaultExperimentConfig() {
  ExperimentConfig config;
  FillDefaults(&config);
  return config;
}

std::string ToTextProto(const Message& message) {
  std::string text;
  google::protobuf::TextFormat::Printer printer;
  printer.PrintToString(message, &text);
  return text;
}

}  // namespace tandem
