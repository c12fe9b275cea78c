# 64-bit ARM Linux (Android's arm64-v8a ABI): Debian's gcc-aarch64-linux-gnu,
# tests under qemu-aarch64 (scripts/cross-test aarch64).
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(T2S_CROSS_TRIPLET aarch64-linux-gnu)
set(T2S_CROSS_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/cross-debian.cmake)
