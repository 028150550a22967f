// tilectl: the operator's command line for tilehvd (docs/tilectl.md): policies, partitions, the
// console and the events, over the control API's unix socket.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <optional>

#include <CLI/CLI.hpp>

#include "tilectl/commands.hpp"

namespace {

using tilehv::tilectl::kExitOk;
using tilehv::tilectl::kExitUsage;
using tilehv::tilectl::OutputFormat;
using tilehv::tilectl::PartitionOperation;
using tilehv::tilectl::Session;

struct Arguments {
  std::string socket;
  std::string output = "table";
  std::string file;
  std::string name;
  std::string resource;
  bool yes = false;
  bool follow = false;
  bool all = false;
  std::optional<std::uint64_t> since;
};

// A write to stdout after the reader left must fail with EPIPE (and end the command quietly) rather
// than kill tilectl with SIGPIPE halfway through a line. SIGINT keeps its default: Ctrl-C during a
// stream ends tilectl at once, and a shell sees it was interrupted; every chunk was already flushed.
void set_up_signals() {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  set_up_signals();
  Arguments args;
  CLI::App app{"tilectl: control a tile of tilehv partitions through tilehvd"};
  app.fallthrough();
  app.require_subcommand(1);
  app.add_option("--socket", args.socket, "tilehvd's API socket (default: $TILEHV_SOCKET, else /run/tilehv/tilehvd.sock)");
  app.add_option("-o,--output", args.output, "Output format: table for people, json for scripts")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  app.set_version_flag("--version", "tilectl 0.1.0");

  auto* validate = app.add_subcommand("validate", "Check a policy file (JSON, or YAML by extension) without applying it");
  validate->add_option("FILE", args.file, "The policy file")->required();
  auto* plan = app.add_subcommand("plan", "Show what applying a policy file would change");
  plan->add_option("FILE", args.file, "The policy file")->required();
  auto* apply = app.add_subcommand("apply", "Apply a policy file: show the plan, confirm, carry it out");
  apply->add_option("FILE", args.file, "The policy file")->required();
  apply->add_flag("-y,--yes", args.yes, "Apply without asking (needed when stdin is not a terminal)");
  auto* get = app.add_subcommand("get", "List resources");
  get->add_option("RESOURCE", args.resource, "What to list: partitions")
      ->required()
      ->check(CLI::IsMember({"partitions", "partition"}));
  auto* describe = app.add_subcommand("describe", "Show one partition in detail, with its devices' counters");
  describe->add_option("NAME", args.name, "The partition")->required();
  auto* console = app.add_subcommand("console", "Print a partition's console output");
  console->add_option("NAME", args.name, "The partition")->required();
  console->add_flag("-f,--follow", args.follow, "Keep printing new output until interrupted");
  auto* events = app.add_subcommand("events", "Print the tile's events");
  events->add_flag("-f,--follow", args.follow, "Keep printing new events until interrupted");
  events->add_option("--since", args.since, "Only events after this sequence number")->check(CLI::NonNegativeNumber);
  std::vector<std::pair<CLI::App*, PartitionOperation>> operations;
  for (const auto& [word, operation, help] :
       {std::tuple{"pause", PartitionOperation::kPause, "Pause a partition's vCPUs"},
        std::tuple{"resume", PartitionOperation::kResume, "Resume a paused partition"},
        std::tuple{"restart", PartitionOperation::kRestart, "Stop a partition and start it again"}}) {
    auto* sub = app.add_subcommand(word, help);
    sub->add_option("NAME", args.name, "The partition")->required();
    operations.emplace_back(sub, operation);
  }
  auto* stop = app.add_subcommand("stop", "Stop a partition, or every partition with --all");
  auto* stop_name = stop->add_option("NAME", args.name, "The partition");
  auto* stop_all = stop->add_flag("--all", args.all, "Stop every partition");
  stop_name->excludes(stop_all);
  stop->require_option(1);

  auto* shadow = app.add_subcommand("shadow", "Shadow partitions: candidate kernels proved beside live ones");
  shadow->require_subcommand(1);
  std::string report_format = "text";
  auto* shadow_status = shadow->add_subcommand("status", "Show one shadow, or list them all");
  shadow_status->add_option("NAME", args.name, "The shadow");
  auto* shadow_report = shadow->add_subcommand("report", "Print a shadow's report");
  shadow_report->add_option("NAME", args.name, "The shadow")->required();
  shadow_report->add_option("--format", report_format, "text, json, or html (one self-contained page)")
      ->check(CLI::IsMember({"text", "json", "html"}))
      ->capture_default_str();
  std::vector<std::pair<CLI::App*, std::string>> decisions;
  for (const auto& [word, help] :
       {std::pair{"promote", "Promote a shadow's candidate to live at an input boundary"},
        std::pair{"rollback", "Return a promoted shadow's partition to its previous kernel"},
        std::pair{"abort", "Stop a shadow's comparison without promoting it"},
        std::pair{"release", "Stop the previous kernel a promotion kept paused for a rollback"}}) {
    auto* sub = shadow->add_subcommand(word, help);
    sub->add_option("NAME", args.name, "The shadow")->required();
    decisions.emplace_back(sub, word);
  }
  tilehv::tilectl::TryOptions try_options;
  std::uint64_t try_timeout_s = 600;
  auto* shadow_try = shadow->add_subcommand("try", "Shadow a candidate image beside a live partition, then promote or reject it");
  shadow_try->add_option("LIVE", try_options.live, "The live partition")->required();
  shadow_try->add_option("--candidate", try_options.candidate, "The candidate kernel image (PVH ELF)")->required();
  shadow_try->add_option("--generator", try_options.generator, "A command that writes the candidate first ($TILEHV_CANDIDATE)");
  shadow_try->add_option("--action", try_options.action, "auto-promote, auto-rollback, or report")
      ->check(CLI::IsMember({"auto-promote", "auto-rollback", "report"}))
      ->capture_default_str();
  shadow_try->add_option("--min-inputs", try_options.min_inputs, "Inputs to compare before a verdict");
  shadow_try->add_option("--min-duration-ms", try_options.min_duration_ms, "Time to compare before a verdict");
  shadow_try->add_option("--max-divergence", try_options.max_divergence, "Divergent records allowed, as a ratio")
      ->check(CLI::Range(0.0, 1.0));
  shadow_try->add_flag("--fresh", try_options.fresh,
                       "Restart the live partition, held until the shadow joins, so both start from its first input");
  shadow_try->add_option("--timeout", try_timeout_s, "Seconds to wait for a verdict")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    (void)app.exit(e);
    return kExitUsage;
  }

  Session session(tilehv::tilectl::choose_socket(args.socket, std::getenv("TILEHV_SOCKET")),
                  args.output == "json" ? OutputFormat::kJson : OutputFormat::kTable,
                  {std::cout, std::cerr, std::cin, ::isatty(STDIN_FILENO) == 1});
  int code = kExitUsage;
  try {
    if (validate->parsed()) code = tilehv::tilectl::validate_command(session, args.file);
    if (plan->parsed()) code = tilehv::tilectl::plan_command(session, args.file);
    if (apply->parsed()) code = tilehv::tilectl::apply_command(session, args.file, args.yes);
    if (get->parsed()) code = tilehv::tilectl::get_partitions_command(session);
    if (describe->parsed()) code = tilehv::tilectl::describe_command(session, args.name);
    if (console->parsed()) code = tilehv::tilectl::console_command(session, args.name, args.follow);
    if (events->parsed()) code = tilehv::tilectl::events_command(session, args.follow, args.since);
    for (const auto& [sub, operation] : operations) {
      if (sub->parsed()) code = tilehv::tilectl::partition_operation_command(session, operation, args.name);
    }
    if (shadow_status->parsed()) code = tilehv::tilectl::shadow_status_command(session, args.name);
    if (shadow_report->parsed()) code = tilehv::tilectl::shadow_report_command(session, args.name, report_format);
    for (const auto& [sub, decision] : decisions) {
      if (sub->parsed()) code = tilehv::tilectl::shadow_decision_command(session, decision, args.name);
    }
    if (shadow_try->parsed()) {
      try_options.timeout = std::chrono::seconds(try_timeout_s);
      code = tilehv::tilectl::shadow_try_command(session, try_options);
    }
    if (stop->parsed()) {
      code = args.all ? tilehv::tilectl::stop_all_command(session)
                      : tilehv::tilectl::partition_operation_command(session, PartitionOperation::kStop, args.name);
    }
  } catch (const std::exception& e) {
    code = session.fail(e.what());
  }
  return session.finish(code);
}
