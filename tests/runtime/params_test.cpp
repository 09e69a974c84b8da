#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "frontends/builder.hpp"
#include "graph/error.hpp"
#include "runtime/params.hpp"
#include "runtime/random.hpp"

using namespace kiln;

namespace {

struct Moments {
  double mean = 0, std = 0, min = 1e300, max = -1e300;
};

Moments moments(const Tensor& t) {
  Moments m;
  for (std::size_t i = 0; i < t.numel(); ++i) {
    double v = t.get(i);
    m.mean += v;
    m.min = std::min(m.min, v);
    m.max = std::max(m.max, v);
  }
  m.mean /= static_cast<double>(t.numel());
  for (std::size_t i = 0; i < t.numel(); ++i) m.std += (t.get(i) - m.mean) * (t.get(i) - m.mean);
  m.std = std::sqrt(m.std / static_cast<double>(t.numel() - 1));
  return m;
}

}  // namespace

TEST_CASE("RandomStream draws from the standard mt19937_64 sequence", "[runtime][params]") {
  // The C++ standard fixes the 10000th output of mt19937_64 seeded with 5489.
  RandomStream s(5489);
  for (int i = 0; i < 9999; ++i) (void)s.bits();
  CHECK(s.bits() == 9981545732273789042ull);
  std::mt19937_64 reference(77);
  RandomStream u(77);
  for (int i = 0; i < 100; ++i) {
    double want = static_cast<double>(reference() >> 11) / 9007199254740992.0;
    double got = u.uniform();
    CHECK(got == want);
    CHECK(got >= 0.0);
    CHECK(got < 1.0);
  }
  CHECK(stable_hash("fc1/W") == stable_hash("fc1/W"));
  CHECK(stable_hash("fc1/W") != stable_hash("fc1/b"));
  CHECK(stable_hash("") == 0xCBF29CE484222325ull);  // the FNV-1a offset basis
}

TEST_CASE("a normal param has the requested mean and std", "[runtime][params]") {
  Builder b;
  b.param("W", {400, 500}, Init::normal(0.5, -2.0));
  b.param("H", {400, 500}, Init::he());
  b.param("D", {300, 300}, Init::normal(0.1), DType::f64);
  ParamStore store;
  store.initialise(b.graph(), 7);
  Moments w = moments(store.get("W"));
  CHECK(w.mean == Approx(-2.0).margin(0.005));  // 200k draws: std error of the mean 0.0011
  CHECK(w.std == Approx(0.5).epsilon(0.01));
  Moments h = moments(store.get("H"));
  CHECK(h.mean == Approx(0.0).margin(0.002));
  CHECK(h.std == Approx(std::sqrt(2.0 / 400)).epsilon(0.01));
  Moments d = moments(store.get("D"));
  CHECK(store.get("D").dtype() == DType::f64);
  CHECK(d.std == Approx(0.1).epsilon(0.02));
  // Box–Muller tails: 200k normal draws reach past 4 std but not past 6.
  CHECK(w.max > -2.0 + 4 * 0.5);
  CHECK(w.max < -2.0 + 6 * 0.5);
}

TEST_CASE("uniform and xavier params stay inside their bounds and fill them", "[runtime][params]") {
  Builder b;
  b.param("U", {100, 1000}, Init::uniform(-3.0, 1.0));
  b.param("X", {300, 100}, Init::xavier());
  ParamStore store;
  store.initialise(b.graph(), 3);
  Moments u = moments(store.get("U"));
  CHECK(u.min >= -3.0);
  CHECK(u.max < 1.0);
  CHECK(u.min < -2.99);
  CHECK(u.max > 0.99);
  CHECK(u.mean == Approx(-1.0).margin(0.01));
  CHECK(u.std == Approx(4.0 / std::sqrt(12.0)).epsilon(0.01));
  double limit = std::sqrt(6.0 / (300 + 100));
  Moments x = moments(store.get("X"));
  CHECK(x.min >= -limit);
  CHECK(x.max <= limit);
  CHECK(x.max > 0.99 * limit);
  CHECK(x.std == Approx(limit / std::sqrt(3.0)).epsilon(0.02));
}

TEST_CASE("zeros and constant params are exact", "[runtime][params]") {
  Builder b;
  b.param("z", {3}, Init::zeros());
  b.param("c", {2, 2}, Init::constant(0.25), DType::f64);
  ParamStore store;
  store.initialise(b.graph(), 0);
  CHECK(store.get("z").values() == std::vector<double>{0, 0, 0});
  CHECK(store.get("c").values() == std::vector<double>{0.25, 0.25, 0.25, 0.25});
}

TEST_CASE("initialisation is reproducible and each param has its own stream", "[runtime][params]") {
  auto build = [](bool with_extra) {
    Builder b;
    b.param("A", {20, 10}, Init::normal(1.0));
    if (with_extra) b.param("extra", {50}, Init::normal(1.0));
    b.param("B", {10}, Init::uniform(0, 1));
    return b.graph();
  };
  ParamStore s1, s2, s3, s4;
  s1.initialise(build(false), 11);
  s2.initialise(build(false), 11);
  s3.initialise(build(true), 11);
  s4.initialise(build(false), 12);
  CHECK(s1.get("A").values() == s2.get("A").values());
  CHECK(s1.get("A").values() == s3.get("A").values());  // adding a param changes no other
  CHECK(s1.get("B").values() == s3.get("B").values());
  CHECK(s1.get("A").values() != s4.get("A").values());  // another seed, other values
  // Two params with one Init still differ: the name picks the stream.
  Builder twins;
  twins.param("p", {8}, Init::normal(1.0));
  twins.param("q", {8}, Init::normal(1.0));
  ParamStore t;
  t.initialise(twins.graph(), 1);
  CHECK(t.get("p").values() != t.get("q").values());
}

TEST_CASE("an explicit init seed pins a param whatever the run seed", "[runtime][params]") {
  Init pinned = Init::normal(1.0);
  pinned.seed = 99;
  Builder b;
  b.param("pinned", {16}, pinned);
  b.param("free", {16}, Init::normal(1.0));
  ParamStore a, c;
  a.initialise(b.graph(), 1);
  c.initialise(b.graph(), 2);
  CHECK(a.get("pinned").values() == c.get("pinned").values());
  CHECK(a.get("free").values() != c.get("free").values());
}

TEST_CASE("get, set and add check names, shapes and dtypes", "[runtime][params]") {
  Builder b;
  b.param("fc1/W", {3, 2}, Init::normal(1.0));
  ParamStore store;
  store.initialise(b.graph(), 0);
  CHECK(store.contains("fc1/W"));
  CHECK(store.size() == 1);
  CHECK_THROWS_WITH(store.get("nope"), Catch::Contains("'nope'"));
  const void* storage = store.get("fc1/W").raw();
  Tensor v = Tensor::from_values(Shape{3, 2}, DType::f32, {1, 2, 3, 4, 5, 6});
  store.set("fc1/W", v);
  CHECK(store.get("fc1/W").values() == v.values());
  CHECK(store.get("fc1/W").raw() == storage);  // set copies into place: bound pointers stay valid
  CHECK_THROWS_WITH(store.set("fc1/W", Tensor(Shape{2, 3}, DType::f32)),
                    Catch::Contains("fc1/W") && Catch::Contains("expected f32 [3, 2]") &&
                        Catch::Contains("found f32 [2, 3]"));
  CHECK_THROWS_WITH(store.set("fc1/W", Tensor(Shape{3, 2}, DType::f64)), Catch::Contains("found f64 [3, 2]"));
  Tensor& momentum = store.add("fc1/W/momentum", Shape{3, 2}, DType::f32);
  CHECK(momentum.values() == std::vector<double>(6, 0.0));
  CHECK_THROWS_WITH(store.add("fc1/W", Shape{1}, DType::f32), Catch::Contains("fc1/W"));
  CHECK(store.names() == std::vector<std::string>{"fc1/W", "fc1/W/momentum"});
  // Re-initialising rewrites in place.
  store.initialise(b.graph(), 0);
  CHECK(store.get("fc1/W").raw() == storage);
  CHECK(store.get("fc1/W").values() != v.values());
}

TEST_CASE("a store shared by two graphs rejects a param whose type differs", "[runtime][params]") {
  Builder a, b;
  a.param("W", {4, 2}, Init::xavier());
  b.param("W", {4, 3}, Init::xavier());
  ParamStore store;
  store.initialise(a.graph(), 0);
  CHECK_THROWS_WITH(store.initialise(b.graph(), 0),
                    Catch::Contains("'W'") && Catch::Contains("[4, 2]") && Catch::Contains("[4, 3]"));
}

TEST_CASE("fans follow the in-by-out weight convention", "[runtime][params]") {
  CHECK(fans_of(Shape{784, 100}).in == 784);
  CHECK(fans_of(Shape{784, 100}).out == 100);
  CHECK(fans_of(Shape{10}).in == 10);
  CHECK(fans_of(Shape{10}).out == 10);
  CHECK(fans_of(Shape{}).in == 1);
  CHECK(fans_of(Shape{2, 3, 4}).in == 6);
  CHECK(fans_of(Shape{2, 3, 4}).out == 4);
}

TEST_CASE("an unusable init names the param", "[runtime][params]") {
  Builder b;
  b.param("bad", {2}, Init::uniform(1.0, -1.0));
  ParamStore store;
  CHECK_THROWS_WITH(store.initialise(b.graph(), 0), Catch::Contains("'bad'") && Catch::Contains("low <= high"));
}
