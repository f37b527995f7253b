"""Peer test: memtx's chat-template engine against the real jinja2, driven the way transformers'
apply_chat_template drives it (transformers.utils.chat_template_utils.render_jinja_template: an
ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks, loop controls, raise_exception, strftime_now and
its tojson; the variables messages, tools, documents, add_generation_prompt and the special tokens).

The templates below are written for this test in the style and with the constructs of the chat templates of
common model families (ChatML/Qwen2 with a default system message and a tools branch, Llama 2 [INST] with the
system message folded into the first user turn, Llama 3 with header ids and trim, Mistral, Gemma with
'assistant' -> 'model', Phi-3, Zephyr, DeepSeek with namespace(), and one of many constructs). Each is rendered
for conversations of 1 to 6 turns, with and without a system message, with add_generation_prompt both ways,
and for conversations that must raise (roles that do not alternate, a system message where none is allowed).
memtx's side is chat_template_peer_tool (argv[1], memtx_data only). Any difference in text, or an error on one
side only, or a template the engine refuses, is a mismatch; the test passes with 0 mismatches.

    chat_template_peer.py TOOL [--keep DIR]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from peer_support import require_peers  # noqa: E402

require_peers("jinja2", "transformers")
from transformers.utils.chat_template_utils import render_jinja_template  # noqa: E402

TEMPLATES = {
    "chatml_qwen2": (
        "{%- if tools %}\n"
        "    {{- '<|im_start|>system\\n' }}\n"
        "    {%- if messages[0]['role'] == 'system' %}\n"
        "        {{- messages[0]['content'] }}\n"
        "    {%- else %}\n"
        "        {{- 'You are a helpful assistant.' }}\n"
        "    {%- endif %}\n"
        "    {{- \"\\n\\n# Tools\\n\\n<tools>\" }}\n"
        "    {%- for tool in tools %}\n"
        "        {{- \"\\n\" }}\n"
        "        {{- tool | tojson }}\n"
        "    {%- endfor %}\n"
        "    {{- \"\\n</tools><|im_end|>\\n\" }}\n"
        "{%- else %}\n"
        "    {%- if messages[0]['role'] == 'system' %}\n"
        "        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n"
        "    {%- else %}\n"
        "        {{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}\n"
        "    {%- endif %}\n"
        "{%- endif %}\n"
        "{%- for message in messages %}\n"
        "    {%- if (message.role == 'user') or (message.role == 'system' and not loop.first) "
        "or (message.role == 'assistant' and not message.tool_calls) %}\n"
        "        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}\n"
        "    {%- endif %}\n"
        "{%- endfor %}\n"
        "{%- if add_generation_prompt %}\n"
        "    {{- '<|im_start|>assistant\\n' }}\n"
        "{%- endif %}\n"),
    "llama2": (
        "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
        "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
        "{% set system_message = false %}{% endif %}\n"
        "{% for message in loop_messages %}\n"
        "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
        "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}\n"
        "{% if loop.index0 == 0 and system_message != false %}"
        "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
        "{% else %}{% set content = message['content'] %}{% endif %}\n"
        "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
        "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}\n"
        "{% endfor %}\n"),
    "llama3": (
        "{{- bos_token }}\n"
        "{%- if not date_string is defined %}\n"
        "    {%- set date_string = \"26 Jul 2024\" %}\n"
        "{%- endif %}\n"
        "{%- if messages[0]['role'] == 'system' %}\n"
        "    {%- set system_message = messages[0]['content']|trim %}\n"
        "    {%- set messages = messages[1:] %}\n"
        "{%- else %}\n"
        "    {%- set system_message = \"\" %}\n"
        "{%- endif %}\n"
        "{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}\n"
        "{{- \"Today Date: \" + date_string + \"\\n\\n\" }}\n"
        "{{- system_message }}\n"
        "{{- \"<|eot_id|>\" }}\n"
        "{%- for message in messages %}\n"
        "    {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim "
        "+ '<|eot_id|>' }}\n"
        "{%- endfor %}\n"
        "{%- if add_generation_prompt %}\n"
        "    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n"
        "{%- endif %}\n"),
    "mistral": (
        "{%- if messages[0]['role'] == 'system' %}\n"
        "    {%- set system_message = messages[0]['content'] %}\n"
        "    {%- set loop_messages = messages[1:] %}\n"
        "{%- else %}\n"
        "    {%- set loop_messages = messages %}\n"
        "{%- endif %}\n\n"
        "{{- bos_token }}\n"
        "{%- for message in loop_messages %}\n"
        "    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\n"
        "        {{- raise_exception('After the optional system message, conversation roles must alternate "
        "user/assistant/user/assistant/...') }}\n"
        "    {%- endif %}\n"
        "    {%- if message['role'] == 'user' %}\n"
        "        {%- if loop.last and system_message is defined %}\n"
        "            {{- '[INST] ' + system_message + '\\n\\n' + message['content'] + '[/INST]' }}\n"
        "        {%- else %}\n"
        "            {{- '[INST] ' + message['content'] + '[/INST]' }}\n"
        "        {%- endif %}\n"
        "    {%- elif message['role'] == 'assistant' %}\n"
        "        {{- ' ' + message['content']|trim + eos_token}}\n"
        "    {%- else %}\n"
        "        {{- raise_exception('Only user and assistant roles are supported!') }}\n"
        "    {%- endif %}\n"
        "{%- endfor %}\n"),
    "gemma": (
        "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
        "{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
        "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
        "{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}"
        "{% endif %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}"
        "{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}"),
    "phi3": (
        "{% for message in messages %}{% if message['role'] == 'system' %}"
        "{{'<|system|>\\n' + message['content'] + '<|end|>\\n'}}{% elif message['role'] == 'user' %}"
        "{{'<|user|>\\n' + message['content'] + '<|end|>\\n'}}{% elif message['role'] == 'assistant' %}"
        "{{'<|assistant|>\\n' + message['content'] + '<|end|>\\n'}}{% endif %}{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% else %}{{ eos_token }}{% endif %}"),
    "zephyr": (
        "{% for message in messages %}\n"
        "{% if message['role'] == 'user' %}\n"
        "{{ '<|user|>\\n' + message['content'] + eos_token }}\n"
        "{% elif message['role'] == 'system' %}\n"
        "{{ '<|system|>\\n' + message['content'] + eos_token }}\n"
        "{% elif message['role'] == 'assistant' %}\n"
        "{{ '<|assistant|>\\n'  + message['content'] + eos_token }}\n"
        "{% endif %}\n"
        "{% if loop.last and add_generation_prompt %}\n"
        "{{ '<|assistant|>' }}\n"
        "{% endif %}\n"
        "{% endfor %}"),
    "deepseek": (
        "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}"
        "{% set ns = namespace(is_first=false, is_tool=false, system_prompt='') %}"
        "{%- for message in messages %}{%- if message['role'] == 'system' %}"
        "{% set ns.system_prompt = message['content'] %}{%- endif %}{%- endfor %}"
        "{{ bos_token }}{{ ns.system_prompt }}"
        "{%- for message in messages %}"
        "{%- if message['role'] == 'user' %}{%- set ns.is_tool = false -%}"
        "{{'<\uff5cUser\uff5c>' + message['content']}}{%- endif %}"
        "{%- if message['role'] == 'assistant' and message['content'] is not none %}"
        "{% set content = message['content'] %}"
        "{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}"
        "{{'<\uff5cAssistant\uff5c>' + content + '<\uff5cend\u2581of\u2581sentence\uff5c>'}}{%- endif %}"
        "{%- endfor -%}"
        "{% if add_generation_prompt and not ns.is_tool %}{{'<\uff5cAssistant\uff5c><think>\\n'}}{% endif %}"),
    "constructs": (
        "{#- A template of many constructs -#}\n"
        "{%- set sys = messages | selectattr('role', 'equalto', 'system') | list %}\n"
        "{%- if sys %}System: {{ sys[0].content | tojson }}\n"
        "{% endif %}\n"
        "{%- for m in messages[1:] if m.role != 'system' -%}\n"
        "[{{ loop.index }}/{{ loop.length }}] {{ m.role | upper }}: "
        "{{ m.content[:20] ~ ('...' if m.content | length > 20 else '') }}{{ '\\n' if not loop.last }}\n"
        "{%- else -%}\n"
        "(only one message)\n"
        "{%- endfor %}\n"
        "{{ messages | map(attribute='role') | join(',') }} {{ messages[::-1][0].content | tojson(indent=2) }} "
        "{{ {'n': messages | length, 'last': messages[-1].role, 'x': [1, 2.5, none, true]} | tojson }}\n"
        "{%- macro turn(m, mark='*') %}<{{ m.role.title() }}{{ mark }}>{%- endmacro %}\n"
        "{% for m in messages %}{{ turn(m) if loop.index is odd else turn(m, mark='#') }}"
        "{% if loop.previtem is defined and loop.previtem.role == m.role %}!{% endif %}{% endfor %}"
        "{{ '+' if add_generation_prompt else '-' }}\n"
        "{% set ns = namespace(words=0) %}{% for m in messages %}{% set ns.words = ns.words + "
        "(m.content.split() | length) %}{% endfor %}words={{ ns.words }} "
        "{{ (messages | last).content.replace('\\n', ' / ').lstrip().startswith('line') }}\n"),
}

SPECIAL_TOKENS = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}

CONTENTS = [
    "Hello!", "  spaced out  \n", "Quote's \"here\" and \\backslash", "h\u00e9llo w\u00f6rld \u2713 \u4e2d\u6587 \U0001f600",
    "line1\nline2\n\nline3", "<think>hmm, 2+2</think>The answer is 4.", "a long message that goes well past twenty characters",
    "{{ not a template }} {% raw %}", "", "\ttabbed\t",
]


def conversations():
    """(messages, add_generation_prompt) pairs: valid chats of 1 to 6 turns, and some that must raise."""
    out = []
    k = 0
    for turns in range(1, 7):
        for system in (False, True):
            messages = [{"role": "system", "content": "You are terse.\n"}] if system else []
            for t in range(turns):
                messages.append({"role": "user" if t % 2 == 0 else "assistant",
                                 "content": CONTENTS[k % len(CONTENTS)]})
                k += 1
            for gen in (False, True):
                out.append((messages, gen))
    out.append(([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], True))
    out.append(([{"role": "assistant", "content": "a"}], False))
    out.append(([{"role": "system", "content": "s"}, {"role": "user", "content": "a"},
                 {"role": "assistant", "content": "b"}, {"role": "assistant", "content": "c"}], True))
    return out


def reference(template, messages, gen):
    try:
        rendered, _ = render_jinja_template(conversations=[messages], chat_template=template,
                                            add_generation_prompt=gen, **SPECIAL_TOKENS)
        return {"text": rendered[0]}
    except Exception as e:  # noqa: BLE001 - any failure of the template is compared as "raises"
        return {"error": f"{type(e).__name__}: {e}"}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("tool")
    parser.add_argument("--keep", help="write the cases here")
    args = parser.parse_args()
    cases, expected, names = [], [], []
    for name, template in TEMPLATES.items():
        for messages, gen in conversations():
            cases.append({"template": template, "special_tokens": SPECIAL_TOKENS, "messages": messages,
                          "add_generation_prompt": gen})
            expected.append(reference(template, messages, gen))
            names.append(name)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(args.keep or tmp, "chat_template_cases.json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(cases, f, ensure_ascii=False)
        proc = subprocess.run([args.tool, path], capture_output=True, text=True, encoding="utf-8")
    if proc.returncode != 0:
        print(f"FAIL: {args.tool} exited {proc.returncode}:\n{proc.stderr}")
        return 1
    got = [json.loads(line) for line in proc.stdout.splitlines()]
    if len(got) != len(cases):
        print(f"FAIL: {len(got)} results for {len(cases)} cases")
        return 1
    mismatches = {name: 0 for name in TEMPLATES}
    raising = {name: 0 for name in TEMPLATES}
    shown = 0
    for name, case, want, have in zip(names, cases, expected, got):
        same = ("text" in want and have.get("text") == want["text"]) or ("error" in want and "error" in have)
        raising[name] += "error" in want and "error" in have
        if not same:
            mismatches[name] += 1
            if shown < 8:
                shown += 1
                print(f"MISMATCH {name} add_generation_prompt={case['add_generation_prompt']} "
                      f"messages={json.dumps(case['messages'], ensure_ascii=False)}\n  jinja2: {want!r}\n  memtx:  {have!r}")
    for name in TEMPLATES:
        print(f"{name}: {mismatches[name]} mismatches of {names.count(name)} cases ({raising[name]} raise in both)")
    total = sum(mismatches.values())
    print(("PASS" if total == 0 else "FAIL") + f": {total} mismatches in {len(cases)} cases")
    return 0 if total == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
