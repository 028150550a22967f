// The corpus of broken policies (tests/data/policies/broken/): each NAME.json or NAME.yaml is refused
// with exactly the diagnostics of NAME.expected, all of them, in order. And a policy written in both
// formats (NAME.json and yaml-NAME.yaml) is refused for the same reasons in both.
#include <algorithm>
#include <filesystem>
#include <vector>

#include <gtest/gtest.h>

#include "policy/loader.hpp"
#include "unit/partitions/policy/policy_files.hpp"

namespace tilehv::policy {
namespace {

std::filesystem::path broken_dir() { return testing::data_dir() / "broken"; }

std::vector<std::string> corpus() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(broken_dir())) {
    const std::string extension = entry.path().extension().string();
    if (extension == ".json" || extension == ".yaml") names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Diagnostics name the file as the corpus's expectations do: by its name alone.
std::vector<Diagnostic> load_broken(const std::string& name) {
  auto loaded = load_policy_file(broken_dir() / name);
  if (loaded) return {};
  std::vector<Diagnostic> diagnostics = loaded.error();
  for (Diagnostic& d : diagnostics) d.file = std::filesystem::path(d.file).filename().string();
  return diagnostics;
}

class BrokenPolicy : public ::testing::TestWithParam<std::string> {};

TEST_P(BrokenPolicy, IsRefusedWithExactlyTheExpectedDiagnostics) {
  const std::string name = GetParam();
  const auto expected_file = broken_dir() / (std::filesystem::path(name).stem().string() + ".expected");
  ASSERT_TRUE(std::filesystem::exists(expected_file)) << expected_file;
  const std::vector<Diagnostic> diagnostics = load_broken(name);
  ASSERT_FALSE(diagnostics.empty()) << name << " loaded";
  EXPECT_EQ(format(diagnostics), testing::read_text(expected_file));
}

INSTANTIATE_TEST_SUITE_P(Corpus, BrokenPolicy, ::testing::ValuesIn(corpus()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string test_name = param_info.param;
                           for (char& c : test_name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return test_name;
                         });

TEST(BrokenPolicyCorpus, IsLargeEnough) { EXPECT_GE(corpus().size(), 45U); }

TEST(BrokenPolicyCorpus, EveryExpectationHasItsPolicy) {
  for (const auto& entry : std::filesystem::directory_iterator(broken_dir())) {
    if (entry.path().extension() != ".expected") continue;
    const auto stem = entry.path().stem().string();
    EXPECT_TRUE(std::filesystem::exists(broken_dir() / (stem + ".json")) ||
                std::filesystem::exists(broken_dir() / (stem + ".yaml")))
        << entry.path();
  }
}

// Lines and columns differ between the two layouts; what was found where, and why, does not.
TEST(BrokenPolicyCorpus, JsonAndYamlOfTheSamePolicyGiveTheSameDiagnostics) {
  std::size_t pairs = 0;
  for (const std::string& name : corpus()) {
    if (!name.starts_with("yaml-")) continue;
    const std::string twin = std::filesystem::path(name.substr(5)).replace_extension(".json").string();
    if (!std::filesystem::exists(broken_dir() / twin)) continue;
    ++pairs;
    const auto yaml = load_broken(name);
    const auto json = load_broken(twin);
    ASSERT_EQ(yaml.size(), json.size()) << name << "\n" << format(yaml) << "\n" << format(json);
    for (std::size_t i = 0; i < yaml.size(); ++i) {
      EXPECT_EQ(yaml[i].path, json[i].path) << name;
      EXPECT_EQ(yaml[i].found, json[i].found) << name;
      EXPECT_EQ(yaml[i].expected, json[i].expected) << name;
      EXPECT_EQ(yaml[i].check, json[i].check) << name;
    }
  }
  EXPECT_GE(pairs, 20U);
}

}  // namespace
}  // namespace tilehv::policy
