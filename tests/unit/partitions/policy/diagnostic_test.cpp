// A diagnostic's one-line form and its JSON for the REST API.
#include "policy/diagnostic.hpp"

#include <gtest/gtest.h>

namespace tilehv::policy {
namespace {

TEST(PolicyDiagnostic, FormatsAsFileLineColumnPathFoundExpectedCheck) {
  const Diagnostic d{"demo.json", 12, 17, "partitions[1].memory", "\"64X\"", "a size such as 64M or 1G", "schema"};
  EXPECT_EQ(format(d), "demo.json:12:17: partitions[1].memory: found \"64X\", expected a size such as 64M or 1G [schema]");
}

TEST(PolicyDiagnostic, AFileWideProblemHasNoPath) {
  const Diagnostic d{"x.json", 1, 1, "", "an empty file", "a policy", "syntax"};
  EXPECT_EQ(format(d), "x.json:1:1: found an empty file, expected a policy [syntax]");
  EXPECT_EQ(format(std::vector<Diagnostic>{d, d}), format(d) + "\n" + format(d) + "\n");
}

TEST(PolicyDiagnostic, ToJsonCarriesEveryFieldAndTheMessage) {
  const Diagnostic d{"demo.json", 3, 5, "tile.cpus", "\"x\"", "a CPU list", "schema"};
  const nlohmann::json json = to_json(d);
  EXPECT_EQ(json["file"], "demo.json");
  EXPECT_EQ(json["line"], 3);
  EXPECT_EQ(json["column"], 5);
  EXPECT_EQ(json["path"], "tile.cpus");
  EXPECT_EQ(json["found"], "\"x\"");
  EXPECT_EQ(json["expected"], "a CPU list");
  EXPECT_EQ(json["check"], "schema");
  EXPECT_EQ(json["message"], format(d));
}

}  // namespace
}  // namespace tilehv::policy
