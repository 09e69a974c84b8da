// docs/errors.md must list every error kiln can print: each error site in
// the sources (the rule is in tests/meta/error_sites.hpp and at the top of
// docs/errors.md) must have its key in a code span of the catalogue.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>

#include "error_sites.hpp"

namespace {

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool covered(const std::vector<std::string>& spans, const std::string& key) {
  for (const std::string& span : spans)
    if (span.find(key) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("error sites: keys are the longest worded literal of Error and fail calls", "[meta]") {
  const std::string source = R"(
    // throw Error("a commented-out site");
    void f() {
      throw Error(path + ": short" + " the longest literal here " + std::to_string(n));
      fail("expected a thing", "found (another) thing: '" + x + "'");
      throw Error(describe(id) + ": " + e.what());
      /* fail("in a block comment") */
      auto c = ')'; not_an_Error("literal");
    }
  )";
  const auto sites = kiln::meta::find_error_sites("x.cpp", source);
  REQUIRE(sites.size() == 3);
  CHECK(sites[0].key == " the longest literal here ");
  CHECK(sites[0].line == 4);
  CHECK(sites[1].key == "found (another) thing: '");
  CHECK(sites[2].key.empty());
  CHECK(sites[2].line == 6);
}

TEST_CASE("error sites: code spans of the catalogue", "[meta]") {
  const auto spans = kiln::meta::code_spans("a `one` b ``two ` two`` c `three`");
  REQUIRE(spans.size() == 3);
  CHECK(spans[0] == "one");
  CHECK(spans[1] == "two ` two");
  CHECK(spans[2] == "three");
}

TEST_CASE("docs/errors.md covers every error site in the sources", "[meta]") {
  const std::filesystem::path root = KILN_SOURCE_DIR;
  const auto spans = kiln::meta::code_spans(read_all(root / "docs" / "errors.md"));
  REQUIRE_FALSE(spans.empty());
  const auto sites = kiln::meta::find_error_sites_in_tree(root);
  std::size_t keyed = 0;
  std::set<std::string> missing;
  for (const auto& site : sites) {
    if (site.key.empty()) continue;
    ++keyed;
    if (!covered(spans, site.key)) missing.insert(site.file + ":" + std::to_string(site.line) + ": `" + site.key + "`");
  }
  // The tree has hundreds; far fewer means the scanner broke, not that the
  // code got simpler.
  CHECK(keyed > 200);
  std::string report;
  for (const auto& m : missing) report += "\n  " + m;
  INFO("error sites whose key is not in a code span of docs/errors.md (add an entry: key, cause, fix):" << report);
  CHECK(missing.empty());
}
