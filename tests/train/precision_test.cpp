// Mixed precision: what each training.mixed_precision value resolves to on the CPU, the autocast scope, and
// the fp16 dynamic loss scale (halved on overflow, doubled after growth_interval good steps).
#include "memtx/torch_compat.hpp"
#include "train/precision.hpp"
#include "train_support.hpp"

namespace memtx::test {
namespace {

TEST(Precision, CpuResolution) {
  const auto no = train::resolve_precision("no", torch::kCPU);
  EXPECT_FALSE(no.autocast);
  EXPECT_EQ(no.name, "fp32");
  const auto fp16 = train::resolve_precision("fp16", torch::kCPU);
  EXPECT_FALSE(fp16.autocast);
  EXPECT_NE(fp16.note.find("fp32 on the CPU"), std::string::npos);
  const auto bf16 = train::resolve_precision("bf16", torch::kCPU);
  EXPECT_EQ(bf16.autocast, train::cpu_has_fast_bf16());
  EXPECT_EQ(bf16.name, train::cpu_has_fast_bf16() ? "bf16" : "fp32");
  EXPECT_EQ(bf16.note.empty(), train::cpu_has_fast_bf16());
  EXPECT_THROW(train::resolve_precision("fp8", torch::kCPU), Error);
}

TEST(Precision, AutocastScopeCastsMatrixProductsAndRestores) {
  train::Precision p;
  p.autocast = true;
  p.dtype = torch::kBFloat16;
  auto a = torch::randn({4, 4});
  {
    train::AutocastScope scope(p, torch::kCPU);
    EXPECT_EQ(torch::mm(a, a).scalar_type(), torch::kBFloat16);
  }
  EXPECT_EQ(torch::mm(a, a).scalar_type(), torch::kFloat32);
  EXPECT_FALSE(compat::autocast_state(c10::DeviceType::CPU).enabled);
}

TEST(Precision, LossScalerHalvesOnOverflowAndGrowsAfterTheInterval) {
  train::LossScaler scaler(true, 1024.0, 3);
  EXPECT_FALSE(scaler.update(false));
  EXPECT_EQ(scaler.scale(), 512.0);
  EXPECT_TRUE(scaler.update(true));
  EXPECT_TRUE(scaler.update(true));
  EXPECT_EQ(scaler.scale(), 512.0);
  EXPECT_TRUE(scaler.update(true));
  EXPECT_EQ(scaler.scale(), 1024.0);
  auto p = torch::ones({3}, torch::requires_grad());
  (p.sum() * scaler.scale()).backward();
  scaler.unscale({{"p", p}});
  EXPECT_TRUE(torch::allclose(p.grad(), torch::ones({3})));
  train::LossScaler off(false);
  EXPECT_EQ(off.scale(), 1.0);
}

// A resumed fp16 run puts the scaler back where the checkpoint left it: same scale, same count towards growth.
TEST(Precision, LossScalerRestoreContinuesTheSameSchedule) {
  train::LossScaler original(true, 1024.0, 3), resumed(true, 65536.0, 3);
  original.update(true);
  resumed.restore(original.scale(), original.good_steps());
  for (bool finite : {true, true, false, true}) {
    EXPECT_EQ(original.update(finite), resumed.update(finite));
    EXPECT_EQ(original.scale(), resumed.scale());
  }
  EXPECT_EQ(resumed.good_steps(), original.good_steps());
  EXPECT_THROW(resumed.restore(0.0, 0), Error);
  EXPECT_THROW(resumed.restore(std::nan(""), 0), Error);
  EXPECT_THROW(resumed.restore(8.0, -1), Error);
}

}  // namespace
}  // namespace memtx::test
