# CMake toolchain: cross-builds onnxi for AArch64 Linux with Debian's
# gcc-aarch64-linux-gnu against Debian's arm64 multiarch packages
# (/usr/lib/aarch64-linux-gnu); protoc-c is the host's. Tests run under
# qemu-user through CMAKE_CROSSCOMPILING_EMULATOR, so plain `ctest` works.
#
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=tools/aarch64-linux-gnu.cmake \
#         [-DONNXI_ARM64_SYSROOT=DIR]
#
# ONNXI_ARM64_SYSROOT (cache variable or environment): an extra root searched
# before the system one. Debian's libxnnpack0 and libpthreadpool0 are not
# Multi-Arch: same, so their :arm64 packages cannot sit next to the amd64 ones
# that python3-torch needs; tools/test_arm64.sh unpacks them into such a
# directory (DIR/usr/include, DIR/usr/lib/aarch64-linux-gnu) instead.
# tools/test_arm64.sh sets it all up.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)

if(NOT ONNXI_ARM64_SYSROOT AND DEFINED ENV{ONNXI_ARM64_SYSROOT})
  set(ONNXI_ARM64_SYSROOT "$ENV{ONNXI_ARM64_SYSROOT}")
endif()
set(ONNXI_ARM64_SYSROOT "${ONNXI_ARM64_SYSROOT}" CACHE PATH
    "Extra root with arm64 libraries (e.g. XNNPACK unpacked from its .deb)")
# try_compile projects read this file again without the cache.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES ONNXI_ARM64_SYSROOT)

# Libraries and headers come from the arm64 roots only; programs (protoc-c,
# pkg-config) from the host. "/" keeps Debian's multiarch layout usable:
# find_library looks in /usr/lib/aarch64-linux-gnu, never in x86_64-linux-gnu.
set(CMAKE_FIND_ROOT_PATH ${ONNXI_ARM64_SYSROOT} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config must read the arm64 .pc files, not the host's.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
if(ONNXI_ARM64_SYSROOT)
  set(ENV{PKG_CONFIG_LIBDIR}
      "${ONNXI_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:$ENV{PKG_CONFIG_LIBDIR}")
  # The linker resolves libXNNPACK's own NEEDED entries (libpthreadpool.so.0)
  # from here; the build-tree RUNPATH points the loader at the same directory.
  set(CMAKE_EXE_LINKER_FLAGS_INIT
      "-Wl,-rpath-link,${ONNXI_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu")
endif()

# ctest and add_custom_command run target executables through qemu. The
# loader and libc must come from one glibc build: with libc6:arm64 installed
# (the arm64 -dev packages pull it in) its multiarch ld.so is the one to use.
# `-L /usr/aarch64-linux-gnu` would pair the cross ld.so (libc6-arm64-cross)
# with /lib/aarch64-linux-gnu/libc.so.6 found through ld.so.cache; when their
# versions differ (2.36-8cross1 vs 2.36-9+deb12u14 here) pthread_create loops
# forever in the stack cache walk, so every thread pool hangs.
find_program(ONNXI_QEMU_AARCH64 qemu-aarch64)
if(EXISTS /lib/ld-linux-aarch64.so.1)
  set(ONNXI_QEMU_LD_PREFIX / CACHE PATH "qemu-aarch64 -L prefix")
else()
  set(ONNXI_QEMU_LD_PREFIX /usr/aarch64-linux-gnu CACHE PATH "qemu-aarch64 -L prefix")
endif()
if(ONNXI_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${ONNXI_QEMU_AARCH64} -L ${ONNXI_QEMU_LD_PREFIX})
endif()
