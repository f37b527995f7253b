// tests/common/hang_guard.hpp: the time bound of a "this must not hang" check (a quadratic parser, a suggestion
// search), scaled up in sanitized builds (scripts/sanitize.sh, MEMTX_SANITIZED), which run several times slower.
// The bounds stay far below the times the guarded bugs took, so a regression still fails under the sanitizers.
#pragma once

namespace memtx_test {

#if defined(MEMTX_SANITIZED)
inline constexpr double kHangGuardScale = 10.0;
#else
inline constexpr double kHangGuardScale = 1.0;
#endif

// seconds, as a bound for this build.
inline constexpr double hang_guard_seconds(double seconds) { return seconds * kHangGuardScale; }

}  // namespace memtx_test
