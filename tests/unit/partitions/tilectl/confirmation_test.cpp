// Confirmation: only an explicit yes confirms.
#include "tilectl/confirmation.hpp"

#include <sstream>

#include <gtest/gtest.h>

namespace tilehv::tilectl {
namespace {

bool answer(const std::string& input, std::string* asked = nullptr) {
  std::ostringstream out;
  std::istringstream in(input);
  const bool yes = confirm(out, in, "Apply these changes?");
  if (asked != nullptr) *asked = out.str();
  return yes;
}

TEST(Confirm, AsksTheQuestionWithItsDefault) {
  std::string asked;
  (void)answer("y\n", &asked);
  EXPECT_EQ(asked, "Apply these changes? [y/N] ");
}

TEST(Confirm, YesInAnyCaseConfirms) {
  EXPECT_TRUE(answer("y\n"));
  EXPECT_TRUE(answer("YES\n"));
  EXPECT_TRUE(answer("  Yes  \n"));
  EXPECT_TRUE(answer("y"));  // the end of input after the answer
}

TEST(Confirm, EverythingElseIsANo) {
  EXPECT_FALSE(answer(""));
  EXPECT_FALSE(answer("\n"));
  EXPECT_FALSE(answer("n\n"));
  EXPECT_FALSE(answer("yess\n"));
  EXPECT_FALSE(answer("no y\n"));
  EXPECT_FALSE(answer("y" + std::string(100000, 'e') + "s\n"));
}

}  // namespace
}  // namespace tilehv::tilectl
