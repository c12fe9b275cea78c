# 32-bit ARM Linux, hard float (Android's armeabi-v7a ABI is its soft-float
# calling convention sibling; both have a 32-bit size_t and long):
# Debian's gcc-arm-linux-gnueabihf, tests under qemu-arm
# (scripts/cross-test armhf).
set(CMAKE_SYSTEM_PROCESSOR arm)
set(T2S_CROSS_TRIPLET arm-linux-gnueabihf)
set(T2S_CROSS_QEMU qemu-arm)
include(${CMAKE_CURRENT_LIST_DIR}/cross-debian.cmake)
