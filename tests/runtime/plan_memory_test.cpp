// The arena of a compiled training step: within 5% of the liveness lower
// bound for every seed model at batch 32 and 256, and every buffer where the
// memory plan put it.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

#include "frontends/models.hpp"
#include "runtime/kernel_scratch.hpp"
#include "runtime/plan.hpp"

TEST_CASE("plan: training arenas are within 5% of the lower bound at batch 32 and 256", "[plan][memory]") {
  std::string table = "model        batch  fused       arena  lower bound       naive  efficiency\n";
  for (const std::string& model : kiln::model_names())
    for (std::int64_t batch : {32, 256})
      for (bool fuse : {true, false}) {
        kiln::ModelOptions mo;
        mo.batch = batch;
        kiln::PlanOptions options;
        options.compile.fuse = fuse;
        options.optimizer = kiln::OptimizerOptions{};
        kiln::Plan plan = kiln::compile(kiln::build_model(model, mo), options);
        const kiln::MemoryPlan& m = plan.memory();
        char row[160];
        std::snprintf(row, sizeof row, "%-11s  %5lld  %-5s  %10zu  %11zu  %10zu  %9.1f%%\n", model.c_str(),
                      static_cast<long long>(batch), fuse ? "yes" : "no", m.arena_bytes, m.lower_bound,
                      m.naive_bytes, 100.0 * m.efficiency());
        table += row;
        INFO(model << " batch " << batch << (fuse ? " fused" : " unfused") << ": " << m.summary());
        CHECK(m.efficiency() >= 0.95);
        CHECK(plan.arena().size() == m.arena_bytes);
        CHECK(m.arena_bytes <= m.naive_bytes);
      }
  WARN("training step (SGD) arenas, bytes:\n" << table);
}

TEST_CASE("plan: every arena node's pointer is its planned offset, 64-byte aligned", "[plan][memory]") {
  kiln::PlanOptions options;
  options.optimizer = kiln::OptimizerOptions{};
  kiln::Plan plan = kiln::compile(kiln::build_model("mlp"), options);
  const std::byte* base = plan.arena().data();
  CHECK(reinterpret_cast<std::uintptr_t>(base) % 64 == 0);
  // The fed input and the loss stay live to the end: readable, at their offsets.
  for (const std::string& name : {"x", "y", "loss"}) {
    kiln::NodeId id = plan.graph().at(name);
    const kiln::BufferPlan& b = plan.memory().buffer(id);
    INFO(name);
    CHECK(static_cast<const std::byte*>(plan.value(name).data) == base + b.offset);
  }
  CHECK(static_cast<void*>(plan.input_buffer("x")) == static_cast<const void*>(base + plan.memory().buffer(plan.graph().at("x")).offset));
  // Params live in the store, not in the arena.
  const void* w = plan.value("fc1/W").data;
  CHECK(w == plan.param("fc1/W").raw());
  CHECK((w < static_cast<const void*>(base) || w >= static_cast<const void*>(base + plan.arena().size())));
  // An update's value is its param's storage, updated in place.
  CHECK(plan.value("update/fc1/W").data == w);
}

TEST_CASE("plan: a kernel's declared scratch is planned in the arena and counted", "[plan][memory][scratch]") {
  for (kiln::DType dtype : {kiln::DType::f32, kiln::DType::f64})
    for (bool training : {true, false}) {
      INFO(kiln::dtype_name(dtype) << (training ? " training" : " forward only"));
      kiln::ModelOptions mo;
      mo.batch = 64;
      mo.dtype = dtype;
      kiln::PlanOptions options;
      if (training) options.optimizer = kiln::OptimizerOptions{};
      options.compile.differentiate = training;
      kiln::Plan plan = kiln::compile(kiln::build_model("mlp", mo), options);
      const kiln::MemoryPlan& m = plan.memory();
      std::size_t declared = 0;
      for (kiln::NodeId id : plan.order()) {
        const std::size_t need = kiln::node_scratch_bytes(plan.graph(), id);
        declared += need;
        const kiln::ScratchPlan* s = m.scratch_of(id);
        CHECK((need > 0) == (s != nullptr));
        if (s) CHECK(s->bytes == need);
      }
      // The f32 loss kernel exponentiates its 64 rows of 10 logits in
      // scratch; the f64 one needs none, and neither does the training
      // plan's fused loss, whose gradient rows hold its exponentials.
      if (dtype == kiln::DType::f32 && !training) {
        const kiln::ScratchPlan* loss = m.scratch_of(plan.graph().at("loss"));
        REQUIRE(loss);
        CHECK(loss->bytes == (64 * 10 + 64 + 64) * sizeof(float));
      } else {
        CHECK(m.scratch.empty());
      }
      CHECK(m.scratch_bytes == declared);
      CHECK(plan.memory_needs().scratch_bytes == declared);
      CHECK(m.naive_bytes >= declared);
    }
}
