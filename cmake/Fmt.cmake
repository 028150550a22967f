# tilehv::fmt: fmt as a static library. Header-only fmt (FMT_HEADER_ONLY) compiled fmt's whole
# formatting engine into every translation unit that calls fmt::format, which was a large part of
# the build time. Debian's libfmt-dev has no static archive, and its libfmt.so would cost the tilehv
# binary a dynamic libstdc++ and symbol resolution at every start (hypervisor/CMakeLists.txt), so the
# compiled part is built here, once, with the host flags (and so the sanitizers' instrumentation).
add_library(tilehv_fmt STATIC ${CMAKE_CURRENT_LIST_DIR}/fmt_library.cpp)
add_library(tilehv::fmt ALIAS tilehv_fmt)
target_include_directories(tilehv_fmt SYSTEM PUBLIC
  $<TARGET_PROPERTY:fmt::fmt-header-only,INTERFACE_INCLUDE_DIRECTORIES>)
target_link_libraries(tilehv_fmt PRIVATE tilehv::host_flags)
