// Confirmation: the y/N question.
#include "tilectl/confirmation.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace tilehv::tilectl {

bool confirm(std::ostream& out, std::istream& in, std::string_view question) {
  out << question << " [y/N] " << std::flush;
  // Only the start of the line is kept: a longer line is no answer, and it is not buffered whole.
  constexpr std::size_t kKept = 16;
  std::string answer;
  bool any = false;
  for (char c = 0; in.get(c) && c != '\n';) {
    any = true;
    if (answer.size() <= kKept) answer += c;
  }
  if (!any && !in) {
    out << '\n';
    return false;
  }
  const auto not_space = [](unsigned char c) { return std::isspace(c) == 0; };
  answer.erase(answer.begin(), std::find_if(answer.begin(), answer.end(), not_space));
  answer.erase(std::find_if(answer.rbegin(), answer.rend(), not_space).base(), answer.end());
  std::transform(answer.begin(), answer.end(), answer.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return answer == "y" || answer == "yes";
}

}  // namespace tilehv::tilectl
