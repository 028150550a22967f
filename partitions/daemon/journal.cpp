// Journal: see journal.hpp.
#include "daemon/journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "util/errno_text.hpp"
#include "util/unique_fd.hpp"

namespace tilehv::daemon {
namespace {

tl::expected<PolicySource, std::string> policy_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return tl::unexpected(std::string("a policy entry is not an object"));
  PolicySource p;
  p.text = j.value("text", "");
  p.format = j.value("format", "json");
  p.display_name = j.value("display_name", "policy");
  p.base_dir = j.value("base_dir", "/");
  return p;
}

}  // namespace

nlohmann::json to_json(const PolicySource& p) {
  return {{"text", p.text}, {"format", p.format}, {"display_name", p.display_name}, {"base_dir", p.base_dir}};
}

nlohmann::json to_json(const JournalState& state) {
  nlohmann::json partitions = nlohmann::json::object();
  for (const auto& [name, r] : state.partitions) {
    partitions[name] = {{"pid", r.pid},         {"start_ticks", r.start_ticks}, {"uid", r.uid},
                        {"gid", r.gid},         {"state", r.state},             {"restarts", r.restarts},
                        {"total_restarts", r.total_restarts}, {"last_end", r.last_end},
                        {"stop_requested", r.stop_requested}};
    if (!r.promoted_image.empty()) {
      partitions[name]["promoted_image"] = r.promoted_image;
      partitions[name]["promoted_sha256"] = r.promoted_sha256;
    }
  }
  nlohmann::json shadows = nlohmann::json::object();
  for (const auto& [name, r] : state.shadows) shadows[name] = {{"pid", r.pid}, {"start_ticks", r.start_ticks}};
  return {{"version", kJournalVersion},
          {"applied", state.applied ? to_json(*state.applied) : nlohmann::json()},
          {"pending", state.pending ? to_json(*state.pending) : nlohmann::json()},
          {"partitions", partitions},
          {"shadows", shadows},
          {"next_uid_slot", state.next_uid_slot}};
}

tl::expected<JournalState, std::string> journal_from_json(const nlohmann::json& j) {
  try {
    if (!j.is_object() || j.value("version", 0) != kJournalVersion) {
      return tl::unexpected("journal version " + (j.is_object() && j.contains("version") ? j["version"].dump() : "missing") +
                            " is not " + std::to_string(kJournalVersion));
    }
    JournalState state;
    if (j.contains("applied") && !j["applied"].is_null()) {
      auto p = policy_from_json(j["applied"]);
      if (!p) return tl::unexpected(p.error());
      state.applied = *p;
    }
    if (j.contains("pending") && !j["pending"].is_null()) {
      auto p = policy_from_json(j["pending"]);
      if (!p) return tl::unexpected(p.error());
      state.pending = *p;
    }
    for (const auto& [name, r] : j.at("partitions").items()) {
      PartitionRecord rec;
      rec.pid = r.value("pid", 0);
      rec.start_ticks = r.value("start_ticks", std::uint64_t{0});
      rec.uid = r.value("uid", 0U);
      rec.gid = r.value("gid", 0U);
      rec.state = r.value("state", "stopped");
      rec.restarts = r.value("restarts", 0U);
      rec.total_restarts = r.value("total_restarts", std::uint64_t{0});
      rec.last_end = r.contains("last_end") ? r["last_end"] : nlohmann::json();
      rec.stop_requested = r.value("stop_requested", false);
      rec.promoted_image = r.value("promoted_image", "");
      rec.promoted_sha256 = r.value("promoted_sha256", "");
      state.partitions[name] = rec;
    }
    if (j.contains("shadows")) {
      for (const auto& [name, r] : j.at("shadows").items()) {
        state.shadows[name] = ShadowRecord{r.value("pid", 0), r.value("start_ticks", std::uint64_t{0})};
      }
    }
    state.next_uid_slot = j.value("next_uid_slot", 0U);
    return state;
  } catch (const nlohmann::json::exception& e) {
    return tl::unexpected(std::string("journal is malformed: ") + e.what());
  }
}

tl::expected<JournalState, std::string> Journal::load() const {
  std::ifstream in(file_);
  if (!in) {
    if (errno == ENOENT) return JournalState{};
    return tl::unexpected(file_.string() + ": " + util::errno_text(errno));
  }
  std::stringstream text;
  text << in.rdbuf();
  const auto j = nlohmann::json::parse(text.str(), nullptr, false);
  if (j.is_discarded()) return tl::unexpected(file_.string() + ": not valid JSON");
  auto state = journal_from_json(j);
  if (!state) return tl::unexpected(file_.string() + ": " + state.error());
  return state;
}

tl::expected<void, std::string> Journal::save(const JournalState& state) const {
  const std::string text = to_json(state).dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  const std::filesystem::path tmp = file_.string() + ".tmp";
  {
    util::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd) return tl::unexpected(tmp.string() + ": " + util::errno_text(errno));
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return tl::unexpected(tmp.string() + ": " + util::errno_text(errno));
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) return tl::unexpected(tmp.string() + ": fsync: " + util::errno_text(errno));
  }
  if (::rename(tmp.c_str(), file_.c_str()) != 0) return tl::unexpected(file_.string() + ": rename: " + util::errno_text(errno));
  util::UniqueFd dir(::open(file_.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir) ::fsync(dir.get());
  return {};
}

}  // namespace tilehv::daemon
