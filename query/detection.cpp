// Reading ESCU detection and macro YAML (yaml-cpp), the built-in catalog, macro expansion.
#include "query/detection.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "query/spl_parse.h"
#include "schema/embedded_file.h"

namespace quarry::query {
namespace builtin_detections {
extern const schema::EmbeddedFile kEmbeddedFiles[];
extern const int kEmbeddedFileCount;
}  // namespace builtin_detections
namespace builtin_macros {
extern const schema::EmbeddedFile kEmbeddedFiles[];
extern const int kEmbeddedFileCount;
}  // namespace builtin_macros

namespace builtin_testdata {
extern const schema::EmbeddedFile kEmbeddedFiles[];
extern const int kEmbeddedFileCount;
}  // namespace builtin_testdata

namespace {

namespace fs = std::filesystem;

Status Invalid(std::string message) {
  return Status(StatusCode::kInvalidArgument, std::move(message));
}

std::string Scalar(const YAML::Node& node) {
  return node && node.IsScalar() ? node.Scalar() : std::string();
}

std::vector<std::string> ScalarList(const YAML::Node& node) {
  std::vector<std::string> out;
  if (node && node.IsSequence()) {
    for (const YAML::Node& item : node) {
      if (item.IsScalar()) out.push_back(item.Scalar());
    }
  } else if (node && node.IsScalar()) {
    out.push_back(node.Scalar());
  }
  return out;
}

std::optional<int> Integer(const YAML::Node& node) {
  if (!node || !node.IsScalar()) return std::nullopt;
  const std::string& text = node.Scalar();
  if (text.empty() || text.size() > 9) return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// v4 observable types as risk object types (contentctl's v5 migration: hosts are "system",
// accounts "user", anything else "other").
std::string RiskObjectType(const std::string& observable_type) {
  std::string type = Lower(observable_type);
  if (type == "endpoint" || type == "hostname" || type == "ip address" || type == "system")
    return "system";
  if (type == "user" || type == "user name") return "user";
  return "other";
}

// v4 observable types as threat object types: "Process Name" -> "process_name".
std::string ThreatObjectType(const std::string& observable_type) {
  std::string type = Lower(observable_type);
  std::replace(type.begin(), type.end(), ' ', '_');
  return type;
}

void ReadRisk(const YAML::Node& root, Detection* detection) {
  const YAML::Node tags = root["tags"];
  const YAML::Node rba = root["rba"];
  if (rba && rba.IsMap()) {
    detection->risk_message = Scalar(rba["message"]);
    if (rba["risk_objects"] && rba["risk_objects"].IsSequence()) {
      for (const YAML::Node& object : rba["risk_objects"]) {
        detection->risk_objects.push_back(RiskObject{Scalar(object["field"]),
                                                     Lower(Scalar(object["type"])),
                                                     Integer(object["score"]).value_or(0)});
      }
    }
    if (rba["threat_objects"] && rba["threat_objects"].IsSequence()) {
      for (const YAML::Node& object : rba["threat_objects"]) {
        detection->threat_objects.push_back(
            ThreatObject{Scalar(object["field"]), Lower(Scalar(object["type"]))});
      }
    }
    return;
  }
  if (!tags || !tags.IsMap()) return;
  detection->risk_message = Scalar(tags["message"]);
  int score = detection->risk_score.value_or(0);
  if (detection->impact && detection->confidence) {
    score = *detection->impact * *detection->confidence / 100;  // contentctl: int(i * c / 100)
  }
  if (tags["observable"] && tags["observable"].IsSequence()) {
    for (const YAML::Node& observable : tags["observable"]) {
      std::vector<std::string> roles = ScalarList(observable["role"]);
      std::string name = Scalar(observable["name"]);
      std::string type = Scalar(observable["type"]);
      if (std::find(roles.begin(), roles.end(), "Victim") != roles.end()) {
        detection->risk_objects.push_back(RiskObject{name, RiskObjectType(type), score});
      }
      if (std::find(roles.begin(), roles.end(), "Attacker") != roles.end()) {
        detection->threat_objects.push_back(ThreatObject{name, ThreatObjectType(type)});
      }
    }
  }
}

Result<YAML::Node> LoadYaml(std::string_view text) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& error) {
    return Invalid(std::string("not valid YAML: ") + error.what());
  }
}

Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(StatusCode::kIoError, "cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) return Status(StatusCode::kIoError, "cannot read " + path.string());
  return text.str();
}

// The .yml/.yaml files under `dir`, recursively, in path order.
Result<std::vector<fs::path>> YamlFiles(const std::string& dir) {
  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    return Status(StatusCode::kNotFound, "no such directory: " + dir);
  }
  std::vector<fs::path> files;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, error);
  for (; !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (!it->is_regular_file(error)) continue;
    std::string extension = Lower(it->path().extension().string());
    if (extension == ".yml" || extension == ".yaml") files.push_back(it->path());
  }
  if (error) return Status(StatusCode::kIoError, "cannot list " + dir + ": " + error.message());
  std::sort(files.begin(), files.end());
  return files;
}

std::string StemOf(std::string_view file_name) {
  std::string stem = fs::path(std::string(file_name)).stem().string();
  return stem;
}

// A search whose macros expand past this is refused: real ESCU searches stay under 10 KB.
constexpr std::size_t kMaxExpandedSize = 1 << 20;

std::string MacroKey(std::string_view name, std::size_t arity) {
  return std::string(name) + "(" + std::to_string(arity) + ")";
}

void AddDetection(Detection detection, Catalog* catalog) {
  for (Detection& existing : catalog->detections) {
    if (Lower(existing.id) == Lower(detection.id)) {
      existing = std::move(detection);
      return;
    }
  }
  catalog->detections.push_back(std::move(detection));
}

}  // namespace

bool Detection::RaisesNotables() const { return type == "TTP" || type == "Correlation"; }

bool Detection::AddsRisk() const {
  return type == "TTP" || type == "Anomaly" || type == "Correlation";
}

std::string Detection::Severity() const {
  int score = 0;
  for (const RiskObject& object : risk_objects) score = std::max(score, object.score);
  if (score < 20) return "informational";
  if (score < 40) return "low";
  if (score < 60) return "medium";
  if (score < 80) return "high";
  return "critical";
}

void MacroLibrary::Add(Macro macro) {
  std::string key = MacroKey(macro.name, macro.arguments.size());
  macros_[key] = std::move(macro);
}

const Macro* MacroLibrary::Find(std::string_view name, std::size_t arity) const {
  auto it = macros_.find(MacroKey(name, arity));
  return it == macros_.end() ? nullptr : &it->second;
}

Result<std::string> MacroLibrary::Expand(std::string_view search,
                                         std::vector<std::string>* defaulted) const {
  return ExpandLevel(search, 0, defaulted);
}

Result<std::string> MacroLibrary::ExpandLevel(std::string_view text, int depth,
                                              std::vector<std::string>* defaulted) const {
  if (depth > 32) return Invalid("macro expansion is more than 32 levels deep (a macro cycle?)");
  std::string out;
  std::size_t pos = 0;
  while (true) {
    // A backtick inside a quoted string is text, not a macro call.
    std::size_t open = pos;
    bool quoted = false;
    for (; open < text.size(); ++open) {
      if (quoted && text[open] == '\\') {
        ++open;
      } else if (text[open] == '"') {
        quoted = !quoted;
      } else if (!quoted && text[open] == '`') {
        break;
      }
    }
    if (open >= text.size()) break;
    std::size_t close = text.find('`', open + 1);
    if (close == std::string_view::npos) return Invalid("unmatched ` in the search");
    out.append(text.substr(pos, open - pos));
    std::string_view call = TrimSpace(text.substr(open + 1, close - open - 1));
    std::string name(call);
    std::vector<std::string> args;
    std::size_t paren = call.find('(');
    if (paren != std::string_view::npos && call.back() == ')') {
      name = std::string(TrimSpace(call.substr(0, paren)));
      args = SplitTopLevel(call.substr(paren + 1, call.size() - paren - 2), ',');
    }
    const Macro* macro = Find(name, args.size());
    std::string definition;
    if (macro != nullptr) {
      definition = macro->definition;
      for (std::size_t i = 0; i < args.size(); ++i) {
        std::string token = "$" + macro->arguments[i] + "$";
        for (std::size_t at = definition.find(token); at != std::string::npos;
             at = definition.find(token, at + args[i].size())) {
          definition.replace(at, token.size(), args[i]);
        }
      }
    } else if (args.empty() && name.size() > 7 && name.ends_with("_filter")) {
      definition = "search *";
      if (defaulted != nullptr) defaulted->push_back(name);
    } else {
      return Invalid("macro `" + std::string(call) + "` is not defined (" +
                     std::to_string(args.size()) + " argument(s)); give its file with --macros");
    }
    Result<std::string> expanded = ExpandLevel(definition, depth + 1, defaulted);
    if (!expanded.ok()) return expanded;
    out += *expanded;
    if (out.size() > kMaxExpandedSize) {
      return Invalid("macro expansion grows past " + std::to_string(kMaxExpandedSize) +
                     " bytes (a macro that calls itself several times?)");
    }
    pos = close + 1;
  }
  out.append(text.substr(pos));
  return out;
}

std::optional<std::string_view> BuiltinTestData(std::string_view file_name) {
  for (int i = 0; i < builtin_testdata::kEmbeddedFileCount; ++i) {
    if (builtin_testdata::kEmbeddedFiles[i].name == file_name)
      return builtin_testdata::kEmbeddedFiles[i].text;
  }
  return std::nullopt;
}

const Detection* Catalog::Find(std::string_view key) const {
  std::string lowered = Lower(std::string(key));
  for (const Detection& detection : detections) {
    if (Lower(detection.id) == lowered || detection.name == key || detection.file_stem == key)
      return &detection;
  }
  return nullptr;
}

Result<Detection> ParseDetectionYaml(std::string_view text, std::string origin,
                                     std::string file_stem) {
  Result<YAML::Node> loaded = LoadYaml(text);
  if (!loaded.ok()) return loaded.status();
  const YAML::Node& root = *loaded;
  if (!root.IsMap()) return Invalid("not a detection: the file is not a YAML mapping");
  Detection detection;
  detection.id = Scalar(root["id"]);
  detection.name = Scalar(root["name"]);
  detection.search = Scalar(root["search"]);
  if (detection.id.empty() || detection.name.empty() || detection.search.empty()) {
    return Invalid("not a detection: it needs id, name and search");
  }
  detection.version = Integer(root["version"]).value_or(0);
  detection.date = Scalar(root["date"]);
  detection.author = Scalar(root["author"]);
  detection.status = Scalar(root["status"]);
  detection.type = Scalar(root["type"]);
  detection.description = Scalar(root["description"]);
  detection.data_sources = ScalarList(root["data_source"]);
  detection.how_to_implement = Scalar(root["how_to_implement"]);
  detection.known_false_positives = Scalar(root["known_false_positives"]);
  detection.references = ScalarList(root["references"]);
  const YAML::Node tags = root["tags"];
  if (tags && tags.IsMap()) {
    detection.analytic_stories = ScalarList(tags["analytic_story"]);
    detection.mitre_attack_ids = ScalarList(tags["mitre_attack_id"]);
    detection.impact = Integer(tags["impact"]);
    detection.confidence = Integer(tags["confidence"]);
    detection.risk_score = Integer(tags["risk_score"]);
    detection.security_domain = Scalar(tags["security_domain"]);
  }
  ReadRisk(root, &detection);
  const YAML::Node deployment = root["deployment"];
  if (deployment && deployment["scheduling"] && deployment["scheduling"].IsMap()) {
    const YAML::Node scheduling = deployment["scheduling"];
    if (!Scalar(scheduling["cron_schedule"]).empty())
      detection.schedule.cron = Scalar(scheduling["cron_schedule"]);
    if (!Scalar(scheduling["earliest_time"]).empty())
      detection.schedule.earliest = Scalar(scheduling["earliest_time"]);
    if (!Scalar(scheduling["latest_time"]).empty())
      detection.schedule.latest = Scalar(scheduling["latest_time"]);
  }
  if (root["tests"] && root["tests"].IsSequence()) {
    for (const YAML::Node& test : root["tests"]) {
      if (!test["attack_data"] || !test["attack_data"].IsSequence()) continue;
      for (const YAML::Node& data : test["attack_data"]) {
        std::string location = Scalar(data["data"]);
        if (!location.empty()) detection.test_data.push_back(location);
      }
    }
  }
  detection.origin = std::move(origin);
  detection.file_stem = std::move(file_stem);
  return detection;
}

Result<Macro> ParseMacroYaml(std::string_view text, std::string origin) {
  Result<YAML::Node> loaded = LoadYaml(text);
  if (!loaded.ok()) return loaded.status();
  const YAML::Node& root = *loaded;
  if (!root.IsMap() || Scalar(root["name"]).empty() || !root["definition"] ||
      !root["definition"].IsScalar()) {
    return Invalid("not a macro: it needs name and definition");
  }
  return Macro{Scalar(root["name"]), ScalarList(root["arguments"]), Scalar(root["definition"]),
               std::move(origin)};
}

Result<Catalog> LoadCatalog(const std::vector<std::string>& detection_dirs,
                            const std::vector<std::string>& macro_dirs) {
  Catalog catalog;
  for (int i = 0; i < builtin_macros::kEmbeddedFileCount; ++i) {
    const schema::EmbeddedFile& file = builtin_macros::kEmbeddedFiles[i];
    Result<Macro> macro = ParseMacroYaml(file.text, "built-in:" + std::string(file.name));
    if (!macro.ok()) return Status(StatusCode::kInternal, macro.status().message());
    catalog.macros.Add(std::move(*macro));
  }
  for (int i = 0; i < builtin_detections::kEmbeddedFileCount; ++i) {
    const schema::EmbeddedFile& file = builtin_detections::kEmbeddedFiles[i];
    Result<Detection> detection =
        ParseDetectionYaml(file.text, "built-in:" + std::string(file.name), StemOf(file.name));
    if (!detection.ok()) return Status(StatusCode::kInternal, detection.status().message());
    catalog.detections.push_back(std::move(*detection));
  }
  for (const std::string& dir : macro_dirs) {
    Result<std::vector<fs::path>> files = YamlFiles(dir);
    if (!files.ok()) return files.status();
    for (const fs::path& path : *files) {
      Result<std::string> text = ReadFile(path);
      Result<Macro> macro =
          text.ok() ? ParseMacroYaml(*text, path.string()) : Result<Macro>(text.status());
      if (!macro.ok()) {
        catalog.problems.push_back(CatalogProblem{path.string(), macro.status().message()});
        continue;
      }
      catalog.macros.Add(std::move(*macro));
    }
  }
  for (const std::string& dir : detection_dirs) {
    Result<std::vector<fs::path>> files = YamlFiles(dir);
    if (!files.ok()) return files.status();
    for (const fs::path& path : *files) {
      Result<std::string> text = ReadFile(path);
      Result<Detection> detection =
          text.ok() ? ParseDetectionYaml(*text, path.string(), path.stem().string())
                    : Result<Detection>(text.status());
      if (!detection.ok()) {
        catalog.problems.push_back(CatalogProblem{path.string(), detection.status().message()});
        continue;
      }
      AddDetection(std::move(*detection), &catalog);
    }
  }
  return catalog;
}

}  // namespace quarry::query
