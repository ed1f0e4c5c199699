// ESCU detections and macros as data: the YAML files Splunk's security_content publishes, the
// ones Quarry ships built in, and the user's own, with SPL macro expansion.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schema/status.h"

namespace quarry::query {

/// An entity that collects risk (user, system) with its score, from the `rba:` block or from a
/// v4 `observable` with role Victim.
struct RiskObject {
  std::string field;  ///< result field holding the object, e.g. "dest"
  std::string type;   ///< "system", "user" or "other"
  int score = 0;
};

/// An artefact recorded on risk events for pivoting (process name, command line, hash, ...).
struct ThreatObject {
  std::string field;
  std::string type;  ///< contentctl's type names: process, process_name, file_hash, ...
};

/// The detection's cron schedule and search window, as ESCU deploys it.
struct DetectionSchedule {
  std::string cron = "0 * * * *";
  std::string earliest = "-70m@m";
  std::string latest = "-10m@m";
};

/// One detection, as read from its YAML file.
struct Detection {
  std::string id;
  std::string name;
  int version = 0;
  std::string date;
  std::string author;
  std::string status;
  std::string type;  ///< TTP, Anomaly, Hunting, Correlation, ...
  std::string description;
  std::vector<std::string> data_sources;
  std::string search;
  std::string how_to_implement;
  std::string known_false_positives;
  std::vector<std::string> references;
  std::vector<std::string> analytic_stories;
  std::vector<std::string> mitre_attack_ids;
  std::optional<int> impact;
  std::optional<int> confidence;
  std::optional<int> risk_score;  ///< tags.risk_score as written
  std::string security_domain;
  std::string risk_message;  ///< rba.message, else tags.message; `$field$` tokens
  std::vector<RiskObject> risk_objects;
  std::vector<ThreatObject> threat_objects;
  DetectionSchedule schedule;
  std::vector<std::string> test_data;  ///< tests[].attack_data[].data as written
  std::string origin;                  ///< file path, or "built-in:<file>"
  std::string file_stem;               ///< file name without .yml: names the _filter macro

  /// The name of the detection's filter macro: `<file_stem>_filter`.
  std::string FilterMacroName() const { return file_stem + "_filter"; }
  /// True for the types Splunk ES raises notables for (TTP, Correlation); Anomaly results
  /// only add risk; Hunting results neither.
  bool RaisesNotables() const;
  /// True for the types whose results add risk (TTP, Anomaly, Correlation).
  bool AddsRisk() const;
  /// Notable severity from the detection's highest risk score (contentctl's bands).
  std::string Severity() const;
};

/// One SPL macro: `name` called with as many arguments as `arguments` has.
struct Macro {
  std::string name;
  std::vector<std::string> arguments;
  std::string definition;
  std::string origin;  ///< file path, "built-in:<file>", or "default" for a generated filter
};

/// A file that could not be read as a detection or macro, and why; the others still load.
struct CatalogProblem {
  std::string path;
  std::string reason;
};

/// Macros by name and arity. Later additions replace earlier ones, so the user's macro files
/// override the built-in ones.
class MacroLibrary {
 public:
  void Add(Macro macro);
  const Macro* Find(std::string_view name, std::size_t arity) const;

  /// Expands every `name` and `name(arg, ...)` in `search`, recursively, substituting `$arg$`
  /// in definitions. A macro that is not defined is kInvalidArgument naming it, except a
  /// `*_filter` macro, which is `search *` (Splunk's generated default) and is reported in
  /// `defaulted` when given. Expansion deeper than 32 levels (a cycle) is an error.
  Result<std::string> Expand(std::string_view search,
                             std::vector<std::string>* defaulted = nullptr) const;

 private:
  Result<std::string> ExpandLevel(std::string_view text, int depth,
                                  std::vector<std::string>* defaulted) const;
  std::map<std::string, Macro, std::less<>> macros_;  // key: name + "(" + arity + ")"
};

/// Everything `quarry detect` works from: detections by id and the macros.
struct Catalog {
  std::vector<Detection> detections;  ///< in load order: built-in first, then user files
  MacroLibrary macros;
  std::vector<CatalogProblem> problems;

  /// The detection whose id, name or file stem is `key` (ids compare case-insensitively).
  const Detection* Find(std::string_view key) const;
};

/// Reads one detection file. kInvalidArgument when it is not YAML or not a detection (no
/// `search`, `name` or `id`).
Result<Detection> ParseDetectionYaml(std::string_view text, std::string origin,
                                     std::string file_stem);
/// Reads one macro file.
Result<Macro> ParseMacroYaml(std::string_view text, std::string origin);

/// The catalog: Quarry's built-in detections and macros, then the detections under each of
/// `detection_dirs` and the macros under each of `macro_dirs` (files ending .yml or .yaml,
/// folders walked recursively, in name order). A user detection with a built-in's id
/// replaces it. Unreadable files become `problems`; a missing directory is kNotFound.
Result<Catalog> LoadCatalog(const std::vector<std::string>& detection_dirs,
                            const std::vector<std::string>& macro_dirs);

/// The test data a built-in detection names as `builtin:<file>`; nothing for another name.
std::optional<std::string_view> BuiltinTestData(std::string_view file_name);

}  // namespace quarry::query
