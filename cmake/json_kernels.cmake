# json_kernels.cmake — the JSON walker compiled once more per x86-64 SIMD kernel.
#
# simdjson 3.0.1 (Debian) compiles its On-Demand code for one kernel only, the
# one the compiler flags allow (`fallback` without -m flags), while its stage 1
# is dispatched at run time inside libsimdjson. So src/codec/json_simd.cpp is
# built three times: as part of sl_codec with no flags (entry
# sl_json_decode_generic), and here with the haswell and icelake instruction
# sets (entries sl_json_decode_haswell, sl_json_decode_icelake);
# src/codec/json_kernel.cpp picks one at run time after simdjson's choice.
#
# Objects built with other -m flags must not share a definition with the rest
# of the program: the linker keeps one copy of every inline function (C++ and
# simdjson headers), and could keep an AVX-512 copy for the generic code. So
# every symbol such an object defines, except its entry point, is renamed with
# a .sl_<kernel> suffix (cmake/rename_symbols.cmake), which also gives its
# COMDAT groups names of their own.
set(SL_JSON_KERNEL_FLAGS_haswell -mavx2 -mbmi -mbmi2 -mlzcnt -mpclmul -mpopcnt)
set(SL_JSON_KERNEL_FLAGS_icelake ${SL_JSON_KERNEL_FLAGS_haswell} -mavx512f -mavx512dq
    -mavx512cd -mavx512bw -mavx512vl -mavx512vbmi -mavx512vbmi2)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64)$")
  foreach(kernel haswell icelake)
    set(lib sl_json_${kernel})
    add_library(${lib} OBJECT ${CMAKE_SOURCE_DIR}/src/codec/json_simd.cpp)
    target_compile_definitions(${lib} PRIVATE SL_JSON_KERNEL=${kernel})
    target_compile_options(${lib} PRIVATE ${SL_JSON_KERNEL_FLAGS_${kernel}})
    target_include_directories(${lib} PRIVATE ${CMAKE_SOURCE_DIR}/src)
    target_link_libraries(${lib} PRIVATE PkgConfig::SIMDJSON)
    set(obj ${CMAKE_CURRENT_BINARY_DIR}/json_simd_${kernel}.o)
    add_custom_command(OUTPUT ${obj}
      COMMAND ${CMAKE_COMMAND} -DNM=${CMAKE_NM} -DOBJCOPY=${CMAKE_OBJCOPY}
              -DIN=$<TARGET_OBJECTS:${lib}> -DOUT=${obj} -DKEEP=sl_json_decode_${kernel}
              -DSUFFIX=.sl_${kernel} -P ${CMAKE_SOURCE_DIR}/cmake/rename_symbols.cmake
      DEPENDS ${lib} $<TARGET_OBJECTS:${lib}> ${CMAKE_SOURCE_DIR}/cmake/rename_symbols.cmake
      VERBATIM)
    target_sources(sl_codec PRIVATE ${obj})
    set_source_files_properties(${obj} PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
  endforeach()
  target_compile_definitions(sl_codec PRIVATE SL_JSON_X86_KERNELS)
endif()
