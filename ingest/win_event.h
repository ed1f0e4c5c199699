// A Windows event as read from any rendering (event XML now, EVTX later): the System fields the
// normalizers need and EventData as name/value pairs. Views point into the decoder's buffer.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace quarry::ingest {

/// One decoded Windows event; string views are valid while the decoder's document lives.
struct WinEvent {
  std::string_view provider;              ///< System/Provider/@Name
  std::string_view channel;               ///< System/Channel
  std::optional<std::int64_t> event_id;   ///< System/EventID
  std::optional<std::int64_t> version;    ///< System/Version
  std::string_view computer;              ///< System/Computer
  std::optional<std::int64_t> record_id;  ///< System/EventRecordID
  std::string_view system_time;           ///< System/TimeCreated/@SystemTime, as written
  std::string_view security_user_id;      ///< System/Security/@UserID
  /// What the decoder found wrong but read past (bytes read as U+FFFD, an EventRecordID that is
  /// not a number), for one field warning; empty for a sound event.
  std::string_view problems;
  /// EventData/Data elements as (Name, text), in document order. A Data element without a Name
  /// attribute has an empty name (positional renderings; normalizers never read those).
  std::vector<std::pair<std::string_view, std::string_view>> data;

  /// The text of the first Data element called `name`, or nothing when there is none.
  std::optional<std::string_view> Find(std::string_view name) const {
    for (const auto& [key, value] : data) {
      if (key == name) return value;
    }
    return std::nullopt;
  }
};

}  // namespace quarry::ingest
