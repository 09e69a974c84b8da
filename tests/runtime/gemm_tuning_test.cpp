// The per-shape choice: deterministic given a tuning file, a measurement
// (whatever it finds) recorded for the next process, and every kind of bad
// file ignored with exactly one warning and then rewritten. Nothing here
// depends on which backend is faster; each test has its own XDG_CACHE_HOME.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "graph/error.hpp"
#include "runtime/gemm/choice.hpp"
#include "runtime/threads.hpp"
#include "tests/runtime/gemm_support.hpp"

using namespace kiln;
using kiln::gemm::Backend;
using kiln::gemm::Desc;
using kiln::gemm::Policy;

namespace {

using kiln::test::captured_stderr;
using kiln::test::read_whole_file;
using kiln::test::write_file_creating_folders;

std::string key(const Desc& d) { return kiln::test::tuning_key(d, kiln::threads()); }

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// k = 4: every backend, direct included, has a kernel for it.
const Desc kSmall = Desc::packed(DType::f32, 4, 3, 4);
const Desc kOther = Desc::packed(DType::f32, 6, 2, 3, true, false);

std::string valid_file(Backend small, Backend other) {
  return "kiln-gemm-tuning 3\ncpu " + gemm::cpu_identity() + "\n" + std::string(gemm::backend_name(small)) +
         " 1 1.000 2.000 3.000 -1.000 -1.000 | " + key(kSmall) + "\n" + std::string(gemm::backend_name(other)) +
         " 1 4.000 -1.000 5.000 -1.000 -1.000 | " + key(kOther) + "\nend 2\n";
}

// The last backend auto may pick: the file must be able to name a non-default one.
Backend last_backend() {
  Backend last = Backend::blas;
  for (Backend b : gemm::compiled_backends())
    if (gemm::auto_eligible(b)) last = b;
  return last;
}

}  // namespace

TEST_CASE("gemm tuning: the choice comes from the file when it has the shape", "[gemm][tuning]") {
  test::PrivateGemmCache cache;
  const Backend chosen = last_backend();
  write_file_creating_folders(cache.file(), valid_file(chosen, Backend::blas));
  std::string err = captured_stderr([&] {
    for (int round = 0; round < 3; ++round) {  // the same answer every time
      gemm::Choice c = gemm::choose(kSmall);
      CHECK(c.backend == chosen);
      CHECK(c.reason == "tuning file");
      CHECK(c.measured_us[0] == Approx(1.0));
      CHECK(c.measured_us[2] == Approx(3.0));
      gemm::Choice o = gemm::choose(kOther);
      CHECK(o.backend == Backend::blas);
      CHECK(o.reason == "tuning file");
    }
  });
  CHECK(err.empty());
  std::unique_ptr<gemm::Prepared> p = gemm::prepare_chosen(kSmall);
  CHECK(p->backend() == chosen);
}

TEST_CASE("gemm tuning: a measured shape is saved and read back by the next process", "[gemm][tuning]") {
  test::PrivateGemmCache cache;
  REQUIRE_FALSE(std::filesystem::exists(cache.file()));
  gemm::Choice first = gemm::choose(kSmall);
  CHECK(first.reason == "measured");
  CHECK(first.measured_us[static_cast<std::size_t>(first.backend)] > 0);
  CHECK(first.measured_us[static_cast<std::size_t>(Backend::blas)] > 0);  // blas runs everything
  REQUIRE(std::filesystem::exists(cache.file()));
  // Atomic write: no temporary file is left beside it.
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(cache.file().parent_path())) {
    (void)entry;
    ++files;
  }
  CHECK(files == 1);
  CHECK(read_whole_file(cache.file()).find(key(kSmall)) != std::string::npos);

  gemm::reset_tuning_state();  // as a new process would start
  gemm::Choice again = gemm::choose(kSmall);
  CHECK(again.reason == "tuning file");
  CHECK(again.backend == first.backend);
}

TEST_CASE("gemm tuning: bad files are ignored with one warning and rewritten", "[gemm][tuning]") {
  const std::string good = valid_file(last_backend(), Backend::blas);
  struct Case {
    const char* what;
    std::string text;
    const char* says;
  };
  const Case cases[] = {
      {"truncated", good.substr(0, good.size() - 7), "truncated"},
      {"cut inside an entry", good.substr(0, good.find(" | ") + 5), "truncated"},
      {"from another CPU", "kiln-gemm-tuning 3\ncpu Some Other CPU|family-model 0\n" + good.substr(good.find("\n", good.find("cpu ")) + 1),
       "another CPU"},
      {"naming a backend this build lacks", [&] {
         std::string t = good;
         t.replace(t.find('\n', t.find("cpu ")) + 1, std::string(gemm::backend_name(last_backend())).size(), "mkl");
         return t;
       }(), "names backend 'mkl'"},
      {"with a wrong count", [&] {
         std::string t = good;
         t.replace(t.find("end 2"), 5, "end 3");
         return t;
       }(), "closing count"},
      {"not a tuning file", std::string("\x7f" "ELF\x02\x01\x01 binary garbage\n"), "line 1"},
      {"empty", "", "line 1"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    test::PrivateGemmCache cache;
    write_file_creating_folders(cache.file(), c.text);
    std::string err = captured_stderr([&] {
      gemm::Choice a = gemm::choose(kSmall);
      gemm::Choice b = gemm::choose(kOther);
      CHECK(a.reason == "measured");  // nothing from the bad file is trusted
      CHECK(b.reason == "measured");
    });
    CHECK(count(err, "kiln: warning:") == 1);
    CHECK(err.find(cache.file().string()) != std::string::npos);
    CHECK(err.find(c.says) != std::string::npos);
    // Rewritten whole: the next process reads it without a warning.
    gemm::reset_tuning_state();
    std::string later = captured_stderr([&] { CHECK(gemm::choose(kSmall).reason == "tuning file"); });
    CHECK(later.empty());
  }
}

TEST_CASE("gemm tuning: auto never picks oneDNN even from a hand-edited file", "[gemm][tuning]") {
  CHECK(gemm::auto_eligible(Backend::blas));
  CHECK_FALSE(gemm::auto_eligible(Backend::dnnl));
  if (!gemm::backend_compiled(Backend::dnnl)) return;
  test::PrivateGemmCache cache;
  write_file_creating_folders(cache.file(), valid_file(Backend::dnnl, Backend::blas));
  gemm::Choice c = gemm::choose(kSmall);
  CHECK(c.backend != Backend::dnnl);
  CHECK(c.reason == "measured");
  CHECK(c.measured_us[static_cast<std::size_t>(Backend::dnnl)] > 0);  // measured all the same, for reports
  CHECK(gemm::choose(kOther).reason == "tuning file");
}

TEST_CASE("gemm tuning: forced policies and the fixed rule when tuning is off", "[gemm][tuning]") {
  for (Backend b : gemm::compiled_backends()) {
    test::PrivateGemmCache cache(gemm::parse_policy(gemm::backend_name(b)));
    gemm::Choice c = gemm::choose(kSmall);
    CHECK(c.backend == b);
    CHECK(c.reason == "forced by policy " + std::string(gemm::backend_name(b)));
    CHECK_FALSE(std::filesystem::exists(cache.file()));  // forcing measures nothing
  }
  {
    test::PrivateGemmCache cache;
    gemm::set_tuning(false);
    gemm::Choice c = gemm::choose(kSmall);  // k = 4: direct has a kernel
    CHECK(c.reason == "fixed rule (tuning off)");
    CHECK(c.backend == Backend::direct);
    gemm::Choice wide = gemm::choose(Desc::packed(DType::f32, 4, 3, 9));  // k = 9: direct has none
    CHECK(wide.reason == "fixed rule (tuning off)");
    CHECK(wide.backend == (gemm::backend_compiled(Backend::xsmm) ? Backend::xsmm : Backend::blas));
    CHECK_FALSE(std::filesystem::exists(cache.file()));
  }
}

TEST_CASE("gemm tuning: policy names and KILN_GEMM", "[gemm][tuning]") {
  CHECK(gemm::parse_policy("auto") == Policy::automatic);
  CHECK(gemm::parse_policy("blas") == Policy::blas);
  CHECK(gemm::parse_policy("xsmm") == Policy::xsmm);
  CHECK(gemm::parse_policy("dnnl") == Policy::dnnl);
  CHECK(gemm::parse_policy("direct") == Policy::direct);
  CHECK_THROWS_WITH(gemm::parse_policy("fast", "--gemm"),
                    Catch::Contains("--gemm") && Catch::Contains("'fast'") && Catch::Contains("auto, blas, xsmm, dnnl"));
  for (Policy p : {Policy::automatic, Policy::blas, Policy::xsmm, Policy::dnnl})
    CHECK(gemm::parse_policy(gemm::policy_name(p)) == p);
  {
    test::ScopedEnv env("KILN_GEMM", "blas");
    CHECK(gemm::environment_policy() == Policy::blas);
  }
  {
    test::ScopedEnv env("KILN_GEMM", "turbo");
    CHECK_THROWS_WITH(gemm::environment_policy(), Catch::Contains("KILN_GEMM") && Catch::Contains("'turbo'"));
  }
  {
    test::ScopedEnv env("KILN_GEMM", std::nullopt);
    CHECK_FALSE(gemm::environment_policy());
  }
}

TEST_CASE("gemm tuning: the file lives under XDG_CACHE_HOME or HOME", "[gemm][tuning]") {
  {
    test::ScopedEnv xdg("XDG_CACHE_HOME", "/some/cache");
    CHECK(gemm::tuning_path() == "/some/cache/kiln/gemm-tuning.txt");
  }
  test::ScopedEnv xdg("XDG_CACHE_HOME", std::nullopt);
  test::ScopedEnv home("HOME", "/home/someone");
  CHECK(gemm::tuning_path() == "/home/someone/.cache/kiln/gemm-tuning.txt");
  CHECK(gemm::cpu_identity().find('|') != std::string::npos);
}
