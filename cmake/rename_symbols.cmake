# rename_symbols.cmake — copies object IN to OUT with every global or weak
# symbol it defines, except KEEP, renamed NAME${SUFFIX}.
# Run as: cmake -DNM=.. -DOBJCOPY=.. -DIN=.. -DOUT=.. -DKEEP=.. -DSUFFIX=.. -P rename_symbols.cmake
# Why: see json_kernels.cmake (objects built with other -m flags must not
# share inline definitions with the rest of the program).
execute_process(COMMAND ${NM} --defined-only --format=posix ${IN}
                OUTPUT_VARIABLE listing RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} failed on ${IN}")
endif()
string(REPLACE "\n" ";" lines "${listing}")
set(map "")
foreach(line IN LISTS lines)
  # posix format: NAME TYPE VALUE SIZE; upper-case types are global, V/W/u weak or unique
  if(line MATCHES "^([^ ]+) ([A-Zuvw]) ")
    set(name ${CMAKE_MATCH_1})
    if(NOT name STREQUAL KEEP)
      string(APPEND map "${name} ${name}${SUFFIX}\n")
    endif()
  endif()
endforeach()
file(WRITE ${OUT}.map "${map}")
execute_process(COMMAND ${OBJCOPY} --redefine-syms=${OUT}.map ${IN} ${OUT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${OBJCOPY} failed on ${IN}")
endif()
