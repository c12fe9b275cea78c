# Shared part of the Debian cross toolchain files (toolchain-*.cmake set
# T2S_CROSS_TRIPLET, T2S_CROSS_QEMU and CMAKE_SYSTEM_PROCESSOR, then include
# this). Compiler: Debian's gcc-TRIPLET; libraries: the multiarch -dev
# packages (libev-dev:arm64 ...), whose headers are in /usr/include and
# libraries in /usr/lib/TRIPLET, where the cross gcc looks by itself.
# Target programs (the tests under ctest) run under qemu-user with the
# target's own multiarch libc (libc6:arm64 ..., which libev4:arm64 and
# libcmocka0:arm64 depend on) and its /lib/ld-linux-*.so: no -L
# /usr/TRIPLET, whose loader (libc6-arm64-cross, another Debian revision)
# would then load the multiarch libc.so.6 beside it; that mismatch hangs
# or crashes pthread_create() and a forked child's abort().
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${T2S_CROSS_TRIPLET}-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE ${T2S_CROSS_TRIPLET})
# find_library() searches /usr/lib/TRIPLET (CMAKE_LIBRARY_ARCHITECTURE)
# and the cross libc's tree, never the host's /usr/lib/x86_64-linux-gnu;
# find_path() also sees /usr/include, which multiarch headers share.
set(CMAKE_FIND_ROOT_PATH /usr/${T2S_CROSS_TRIPLET} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# pkg-config (only the install rules ask it anything) reads the target's
# .pc files, not the host's.
set(ENV{PKG_CONFIG_LIBDIR}
    "/usr/lib/${T2S_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
set(CMAKE_CROSSCOMPILING_EMULATOR ${T2S_CROSS_QEMU})
