# tests/peer: memtx judged by the real Hugging Face code (transformers, tokenizers). The `peer` fixture's setup
# installs scripts/requirements-peer.txt into .venv/ (never fails; without the packages each peer test skips
# with the reason, exit 77). memtx_add_peer_test(NAME SCRIPT ARGS...) runs tests/peer/SCRIPT with .venv's Python.
set(MEMTX_PEER_PYTHON ${PROJECT_SOURCE_DIR}/.venv/bin/python)
add_test(NAME peer_install COMMAND ${PROJECT_SOURCE_DIR}/scripts/install-peer.sh)
set_tests_properties(peer_install PROPERTIES FIXTURES_SETUP peer_env LABELS peer)
function(memtx_add_peer_test name script)
  add_test(NAME peer_${name} COMMAND ${MEMTX_PEER_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/${script} ${ARGN})
  set_tests_properties(peer_${name} PROPERTIES FIXTURES_REQUIRED peer_env LABELS peer SKIP_RETURN_CODE 77
    ENVIRONMENT "MEMTX_BUILD_DIR=${CMAKE_BINARY_DIR};MEMTX_FIXTURES_DIR=${MEMTX_FIXTURES_DIR};MEMTX_PLUGIN_PATH=")
endfunction()

# tokenizer_peer.py drives this tool (memtx_tokenizer only, no LibTorch): ids and decodes of texts as JSON.
add_executable(tokenizer_peer_tool ${CMAKE_CURRENT_LIST_DIR}/tokenizer_peer_tool.cpp)
target_link_libraries(tokenizer_peer_tool PRIVATE memtx_tokenizer memtx_config)

# chat_template_peer.py drives this tool (memtx_data only, no LibTorch): chat templates rendered as JSON lines.
add_executable(chat_template_peer_tool ${CMAKE_CURRENT_LIST_DIR}/chat_template_peer_tool.cpp)
target_link_libraries(chat_template_peer_tool PRIVATE memtx_data memtx_tokenizer memtx_config)

# The peer tests (each a Python script here):
memtx_add_peer_test(tokenizer tokenizer_peer.py $<TARGET_FILE:tokenizer_peer_tool>)
memtx_add_peer_test(export_transformers export_transformers.py)
set_tests_properties(peer_export_transformers PROPERTIES TIMEOUT 900)
memtx_add_peer_test(rope_scaling_transformers rope_scaling_transformers.py)
memtx_add_peer_test(chat_template chat_template_peer.py $<TARGET_FILE:chat_template_peer_tool>)
