// The loader: a valid policy's values and positions, the example templates, both formats alike, and
// the bounds on hostile input.
#include "policy/loader.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "policy/values.hpp"
#include "unit/partitions/policy/policy_files.hpp"

namespace tilehv::policy {
namespace {

using testing::data_dir;
using testing::read_text;
using testing::ScratchDir;
using testing::write_text;

TEST(PolicyLoader, LoadsEveryFieldOfAValidPolicy) {
  auto loaded = load_policy_file(data_dir() / "valid/base.json");
  ASSERT_TRUE(loaded) << format(loaded.error());
  const Policy& policy = *loaded;
  EXPECT_EQ(policy.api_version, kApiVersion);
  EXPECT_EQ(policy.tile.name, "test");
  EXPECT_EQ(policy.tile.cpus, (CpuSet{0, 1, 2, 3}));
  EXPECT_EQ(policy.tile.memory_bytes, 1ULL << 30);
  EXPECT_EQ(policy.tile.reserved_cpus, CpuSet{0});
  EXPECT_EQ(policy.tile.reserved_memory_bytes, 256ULL << 20);
  ASSERT_EQ(policy.tile.sensors.size(), 2U);
  EXPECT_TRUE(policy.tile.sensors[0].shared_read);
  EXPECT_EQ(policy.tile.sensors[0].source.seed, 3U);
  ASSERT_EQ(policy.partitions.size(), 3U);
  const Partition& logger = policy.partitions[0];
  EXPECT_EQ(logger.memory_bytes, 64ULL << 20);
  EXPECT_EQ(logger.image, "../images/alpha.elf");
  EXPECT_EQ(logger.image_resolved, (data_dir() / "images/alpha.elf").lexically_normal().string());
  ASSERT_EQ(logger.sensors.size(), 2U);
  ASSERT_TRUE(logger.sensors[0].rate_hz);
  EXPECT_DOUBLE_EQ(logger.sensors[0].rate_hz->min, 0.5);
  EXPECT_FALSE(logger.sensors[1].rate_hz);
  ASSERT_TRUE(logger.network);
  EXPECT_EQ(logger.network->mac, "02:00:00:00:00:01");
  EXPECT_EQ(logger.network->allow_peers, std::vector<std::string>{"aggregator"});
  const Partition& controller = policy.partitions[1];
  EXPECT_EQ(controller.cpu_mode, CpuMode::kPinned);
  EXPECT_EQ(controller.cpus, CpuSet{3});
  EXPECT_TRUE(controller.rng);
  EXPECT_EQ(controller.restart.policy, RestartPolicy::kOnFailure);  // the default
  ASSERT_EQ(policy.channels.size(), 2U);
  EXPECT_EQ(policy.channels[1].client, "host");
  EXPECT_EQ(policy.channels[1].port, 7000U);
  EXPECT_TRUE(policy.needs_vsock("controller"));
  EXPECT_FALSE(policy.needs_vsock("nobody"));
  // The shared partitions run on what the pinned controller leaves of the usable CPUs.
  EXPECT_EQ(policy.effective_cpus(logger), (CpuSet{1, 2}));
}

TEST(PolicyLoader, RemembersWhereEachFieldWasWritten) {
  auto loaded = load_policy_file(data_dir() / "valid/base.json");
  ASSERT_TRUE(loaded);
  const Located memory = loaded->locate("partitions[1].memory");
  EXPECT_EQ(memory.line, 66);
  EXPECT_EQ(memory.column, 17);
  EXPECT_EQ(loaded->partitions[1].at.line, 62);
  // A field that was not written is placed at its nearest written parent.
  const Located weight = loaded->locate("partitions[2].cpu.weight");
  EXPECT_EQ(weight.line, loaded->partitions[2].at.line);
}

TEST(PolicyLoader, JsonAndYamlOfTheDemoTileLoadAlike) {
  ScratchDir scratch;
  const auto examples = testing::source_dir() / "policies/examples";
  const std::string json_template = read_text(examples / "demo-tile.template.json");
  const std::string yaml_template = read_text(examples / "demo-tile.template.yaml");
  testing::stand_in_kernels(scratch.path(), json_template);
  write_text(scratch.path() / "demo.json", testing::render_template(json_template, scratch.path()));
  write_text(scratch.path() / "demo.yaml", testing::render_template(yaml_template, scratch.path()));
  auto json = load_policy_file(scratch.path() / "demo.json");
  auto yaml = load_policy_file(scratch.path() / "demo.yaml");
  ASSERT_TRUE(json) << format(json.error());
  ASSERT_TRUE(yaml) << format(yaml.error());
  ASSERT_EQ(json->partitions.size(), 3U);
  ASSERT_EQ(yaml->partitions.size(), 3U);
  for (std::size_t i = 0; i < 3; ++i) {
    const Partition& a = json->partitions[i];
    const Partition& b = yaml->partitions[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.sha256, b.sha256);
    EXPECT_EQ(a.image_resolved, b.image_resolved);
    EXPECT_EQ(a.cmdline, b.cmdline);
    EXPECT_EQ(a.memory_bytes, b.memory_bytes);
    EXPECT_EQ(a.cpus, b.cpus);
    EXPECT_EQ(a.cpu_weight, b.cpu_weight);
    EXPECT_EQ(a.sensors.size(), b.sensors.size());
    EXPECT_EQ(a.network.has_value(), b.network.has_value());
    EXPECT_EQ(a.console_limit_bytes, b.console_limit_bytes);
  }
  EXPECT_EQ(json->channels.size(), yaml->channels.size());
  EXPECT_EQ(json->tile.sensors.size(), yaml->tile.sensors.size());
}

TEST(PolicyLoader, TheLargeTileLoads) {
  ScratchDir scratch;
  const std::string text = read_text(testing::source_dir() / "policies/examples/large-tile.template.json");
  testing::stand_in_kernels(scratch.path(), text);
  write_text(scratch.path() / "large.json", testing::render_template(text, scratch.path()));
  auto loaded = load_policy_file(scratch.path() / "large.json");
  ASSERT_TRUE(loaded) << format(loaded.error());
  EXPECT_EQ(loaded->partitions.size(), 24U);
}

TEST(PolicyLoader, AnUnrenderedTemplateIsRefusedForItsPlaceholders) {
  auto loaded = load_policy_file(testing::source_dir() / "policies/examples/demo-tile.template.json");
  ASSERT_FALSE(loaded);
  bool sha256_reported = false;
  for (const Diagnostic& d : loaded.error()) sha256_reported |= d.path == "partitions[0].sha256";
  EXPECT_TRUE(sha256_reported) << format(loaded.error());
}

TEST(PolicyLoader, RefusesAFileLargerThanOneMebibyteWithoutReadingItAll) {
  ScratchDir scratch;
  const auto file = scratch.path() / "huge.json";
  write_text(file, "{\"apiVersion\": \"" + std::string(2U << 20, 'x') + "\"}");
  auto loaded = load_policy_file(file);
  ASSERT_FALSE(loaded);
  ASSERT_EQ(loaded.error().size(), 1U);
  EXPECT_EQ(loaded.error()[0].found, fmt::format("{} bytes", std::filesystem::file_size(file)));
  EXPECT_EQ(loaded.error()[0].expected, "a policy of at most 1048576 bytes");
  EXPECT_EQ(loaded.error()[0].check, "syntax");
}

TEST(PolicyLoader, RefusesAMissingFileAndAFolder) {
  auto missing = load_policy_file(data_dir() / "no-such-policy.json");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error()[0].found, "no such file");
  auto folder = load_policy_file(data_dir());
  ASSERT_FALSE(folder);
  EXPECT_EQ(folder.error()[0].found, "something that is not a regular file");
}

TEST(PolicyLoader, TextIsReadRelativeToItsBaseFolder) {
  const std::string text = read_text(data_dir() / "valid/base.json");
  auto loaded = load_policy_text(text, "<api>", data_dir() / "valid", Format::kJson);
  ASSERT_TRUE(loaded) << format(loaded.error());
  EXPECT_EQ(loaded->display_name, "<api>");
  auto elsewhere = load_policy_text(text, "<api>", data_dir(), Format::kJson);
  ASSERT_FALSE(elsewhere);
  EXPECT_EQ(elsewhere.error()[0].file, "<api>");
  EXPECT_EQ(elsewhere.error()[0].check, "images");
}

TEST(PolicyLoader, JsonSyntaxIsJsonsEvenThoughYamlWouldAcceptIt) {
  const std::string text = "apiVersion: tilehv.io/v1\n";
  auto as_json = load_policy_text(text, "p.json", data_dir(), Format::kJson);
  ASSERT_FALSE(as_json);
  EXPECT_EQ(as_json.error()[0].check, "syntax");
  auto as_yaml = load_policy_text(text, "p.yaml", data_dir(), Format::kYaml);
  ASSERT_FALSE(as_yaml);
  EXPECT_EQ(as_yaml.error()[0].check, "schema");  // it parsed; the tile and partitions are missing
}

TEST(PolicyLoader, DeepNestingIsRefusedBeforeTheParserRecursesFar) {
  for (const Format format : {Format::kJson, Format::kYaml}) {
    const std::string text = std::string(100000, '[') + std::string(100000, ']');
    auto loaded = load_policy_text(text, "deep", data_dir(), format);
    ASSERT_FALSE(loaded);
    ASSERT_EQ(loaded.error().size(), 1U);
    EXPECT_EQ(loaded.error()[0].found, "nesting deeper than 32 levels");
    EXPECT_EQ(loaded.error()[0].column, 33);
  }
}

TEST(PolicyLoader, FormatFollowsTheExtension) {
  EXPECT_EQ(format_of("a/b.yaml"), Format::kYaml);
  EXPECT_EQ(format_of("b.yml"), Format::kYaml);
  EXPECT_EQ(format_of("b.json"), Format::kJson);
  EXPECT_EQ(format_of("b"), Format::kJson);
}

}  // namespace
}  // namespace tilehv::policy
