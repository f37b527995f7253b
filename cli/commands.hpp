// cli/commands.hpp: the subcommands of memtx-cli. Each takes its own arguments (argv after the
// subcommand name) and returns the process exit code.
#pragma once
#include <string>
#include <vector>

namespace memtx_cli {

using Args = std::vector<std::string>;

int cmd_plugins(const Args& args);
int cmd_verify_config(const Args& args);
int cmd_check_fixture(const Args& args);
int cmd_config_reference(const Args& args);
int cmd_describe(const Args& args);
int cmd_build_info(const Args& args);
int cmd_demo(const Args& args);
int cmd_plot(const Args& args);  // plot_command.cpp
int cmd_train(const Args& args);  // train_command.cpp
int cmd_generate(const Args& args);  // infer_commands.cpp
int cmd_eval(const Args& args);      // infer_commands.cpp
int cmd_session(const Args& args);   // session_command.cpp
int cmd_passkey(const Args& args);   // passkey_command.cpp
int cmd_merge_lora(const Args& args);  // merge_lora_command.cpp
int cmd_export_hf(const Args& args);  // export_hf_command.cpp

}  // namespace memtx_cli
