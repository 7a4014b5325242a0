# Copies protoc's Python stubs from IN to OUT, importing each other from tandem._proto instead of
# the top-level package `proto` protoc assumes.
file(GLOB stubs ${IN}/*.py)
foreach(stub ${stubs})
  get_filename_component(name ${stub} NAME)
  file(READ ${stub} text)
  string(REPLACE "from proto import" "from tandem._proto import" text "${text}")
  file(WRITE ${OUT}/${name} "${text}")
endforeach()
file(WRITE ${OUT}/__init__.py "# Generated protobuf and gRPC stubs of proto/ (see python/CMakeLists.txt).\n")
