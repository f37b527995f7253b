// Tests of data/jinja_template: each construct of the chat-template engine on small hand-written templates
// (text, whitespace control, trim_blocks/lstrip_blocks, if/for/set/macro, loop variables, namespaces,
// expressions, tests, filters, methods, globals), and its error paths (syntax errors, unknown filters,
// raise_exception, runaway loops, deep recursion, huge output), each an Error(Config) naming the template.
#include <gtest/gtest.h>

#include "data/jinja_template.hpp"
#include "memtx/error.hpp"

namespace memtx::test {
namespace {

using data::jinja::Dict;
using data::jinja::from_json;
using data::jinja::RenderLimits;
using data::jinja::Template;
using data::jinja::Value;

Dict chat_vars() {
  const auto messages = nlohmann::ordered_json::parse(
      R"([{"role": "system", "content": "Be brief."}, {"role": "user", "content": " Hi "},
          {"role": "assistant", "content": "Hello"}])");
  return {{"messages", from_json(messages)},
          {"bos_token", Value::string("<s>")},
          {"eos_token", Value::string("</s>")},
          {"add_generation_prompt", Value::boolean(true)},
          {"tools", Value::none()}};
}

std::string render(const std::string& source, Dict vars = chat_vars(), RenderLimits limits = RenderLimits()) {
  return Template(source, "t.jinja").render(vars, limits);
}

// The message of the Error(Config) that rendering source raises ("" when it renders).
std::string error_of(const std::string& source, RenderLimits limits = RenderLimits()) {
  try {
    render(source, chat_vars(), limits);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::Config);
    EXPECT_NE(std::string(e.what()).find("t.jinja"), std::string::npos) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error for: " << source;
  return "";
}

TEST(JinjaTemplate, TextOutputAndComments) {
  EXPECT_EQ(render("a{{ 1 + 2 }}b{# gone #}c"), "a3bc");
  EXPECT_EQ(render("x\n"), "x");        // one trailing newline is dropped
  EXPECT_EQ(render("x\n\n"), "x\n");
  EXPECT_EQ(render("{{ bos_token }}{{ none }}{{ true }}{{ 1.5 }}{{ 2.0 }}"), "<s>NoneTrue1.52.0");
  EXPECT_EQ(render("{{ missing }}|{{ ['a', 1] }}|{{ {'k': 'v'} }}"), "|['a', 1]|{'k': 'v'}");
}

TEST(JinjaTemplate, WhitespaceControl) {
  EXPECT_EQ(render("a  {{- 'b' -}}  \n c"), "abc");
  // trim_blocks drops the newline after a block tag; lstrip_blocks the indentation before it.
  EXPECT_EQ(render("{% if true %}\n  x\n  {% endif %}\ny"), "  x\ny");
  EXPECT_EQ(render("a\n    {%- if true %} b{% endif %}"), "a b");
  EXPECT_EQ(render("{# c #}\nz"), "z");
  EXPECT_EQ(render("{{ 'v' }}\nz"), "v\nz");  // not after {{ }}
  EXPECT_EQ(render("{% if true +%}\nz{% endif %}"), "\nz");
}

TEST(JinjaTemplate, IfElifElse) {
  EXPECT_EQ(render("{% if 0 %}a{% elif '' %}b{% elif [1] %}c{% else %}d{% endif %}"), "c");
  EXPECT_EQ(render("{% if none %}a{% else %}d{% endif %}"), "d");
  EXPECT_EQ(render("{{ 'y' if messages else 'n' }}{{ 'y' if not messages }}"), "y");
}

TEST(JinjaTemplate, ForLoopVariables) {
  EXPECT_EQ(render("{% for m in messages %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}"
                   "{{ loop.length }}{{ loop.revindex }},{% endfor %}"),
            "10TrueFalse33,21FalseFalse32,32FalseTrue31,");
  EXPECT_EQ(render("{% for m in messages %}{{ loop.previtem.role if loop.previtem is defined else '-' }}"
                   "{{ (loop.nextitem or {}).role | default('-') }} {% endfor %}"),
            "-user systemassistant user- ");
  EXPECT_EQ(render("{% for m in messages if m.role != 'system' %}{{ loop.index }}{{ m.role }}{% endfor %}"),
            "1user2assistant");
  EXPECT_EQ(render("{% for x in [] %}a{% else %}empty{% endfor %}"), "empty");
  EXPECT_EQ(render("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}"), "a=1;b=2;");
  EXPECT_EQ(render("{% for x in range(5) %}{% if x == 1 %}{% continue %}{% endif %}{% if x == 3 %}{% break %}"
                   "{% endif %}{{ x }}{% endfor %}"),
            "02");
  EXPECT_EQ(render("{% for c in 'ab' %}{{ c }}.{% endfor %}{% for k in {'x': 1} %}{{ k }}{% endfor %}"), "a.b.x");
}

TEST(JinjaTemplate, SetAndNamespace) {
  EXPECT_EQ(render("{% set x = 'a' %}{% for m in messages %}{% set x = 'b' %}{% endfor %}{{ x }}"), "a");
  EXPECT_EQ(render("{% set ns = namespace(n=0, s='') %}{% for m in messages %}{% set ns.n = ns.n + 1 %}"
                   "{% set ns.s = ns.s ~ m.role[0] %}{% endfor %}{{ ns.n }}{{ ns.s }}"),
            "3sua");
  EXPECT_EQ(render("{% set block %}x{{ 1 }}{% endset %}[{{ block }}]"), "[x1]");
}

TEST(JinjaTemplate, MacrosAndGeneration) {
  EXPECT_EQ(render("{% macro tag(name, close=false) %}<{{ '/' if close }}{{ name }}>{% endmacro %}"
                   "{{ tag('b') }}x{{ tag('b', close=true) }}"),
            "<b>x</b>");
  EXPECT_EQ(render("{% generation %}{{ 'reply' }}{% endgeneration %}"), "reply");
}

TEST(JinjaTemplate, Expressions) {
  EXPECT_EQ(render("{{ messages[0]['role'] }} {{ messages[0].content }} {{ messages[-1].role }}"),
            "system Be brief. assistant");
  EXPECT_EQ(render("{{ messages[1:] | length }}{{ messages[:1][0].role }}{{ (messages[::-1] | first).role }}"),
            "2systemassistant");
  EXPECT_EQ(render("{{ 'abcdef'[1:4] }}{{ 'abc'[::-1] }}{{ 'abc'[-1] }}"), "bcdcbac");
  EXPECT_EQ(render("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 1 + 2.5 }} {{ 'a' * 3 }}"),
            "3 -4 1 3.5 1024 3.5 aaa");
  EXPECT_EQ(render("{{ 'a' ~ 1 ~ none }}{{ [1] + [2] }}{{ 'x' + 'y' }}"), "a1None[1, 2]xy");
  EXPECT_EQ(render("{{ 1 < 2 and 2 <= 2 and 3 > 2 and 3 >= 4 }}{{ 1 == 1.0 }}{{ 'a' != 'b' }}"), "FalseTrueTrue");
  EXPECT_EQ(render("{{ 'ell' in 'hello' }}{{ 2 in [1, 2] }}{{ 'k' not in {'k': 1} }}{{ 0 or 'z' }}{{ 1 and 0 }}"),
            "TrueTrueFalsez0");
}

TEST(JinjaTemplate, Tests) {
  EXPECT_EQ(render("{{ x is defined }}{{ x is not defined }}{{ messages is defined }}{{ tools is none }}"),
            "FalseTrueTrueTrue");
  EXPECT_EQ(render("{{ 'a' is string }}{{ {} is mapping }}{{ [] is iterable }}{{ 'a' is sequence }}"
                   "{{ 1.5 is number }}{{ true is true }}{{ false is false }}{{ 1 is true }}"),
            "TrueTrueTrueTrueTrueTrueTrueFalse");
  EXPECT_EQ(render("{{ 3 is odd }}{{ 2 is even }}{{ 'u' is equalto 'u' }}{{ messages[0].tool_calls is defined }}"),
            "TrueTrueTrueFalse");
}

TEST(JinjaTemplate, Filters) {
  EXPECT_EQ(render("[{{ messages[1].content | trim }}]{{ 'aB' | upper }}{{ 'aB' | lower }}{{ 'hello world' | title }}"
                   "{{ 'hELLO' | capitalize }}"),
            "[Hi]ABabHello WorldHello");
  EXPECT_EQ(render("{{ messages | length }}{{ 'héllo' | length }}{{ messages | count }}"), "353");
  EXPECT_EQ(render("{{ x | default('d') }}{{ '' | d('e', true) }}{{ 'v' | default('d') }}"), "dev");
  EXPECT_EQ(render("{{ ['a', 'b'] | join(', ') }}|{{ messages | map(attribute='role') | join(' ') }}"),
            "a, b|system user assistant");
  EXPECT_EQ(render("{{ (messages | selectattr('role', 'equalto', 'user') | list | first).content }}"
                   "{{ messages | rejectattr('role', 'eq', 'system') | list | length }}"),
            " Hi 2");
  EXPECT_EQ(render("{{ [1, 2] | last }}{{ 'abc' | list }}{{ {'a': 1} | items | list }}{{ 'aXbX' | replace('X', '-') }}"),
            "2['a', 'b', 'c'][['a', 1]]a-b-");
  EXPECT_EQ(render("{{ 3 | string }}{{ '42' | int + 1 }}{{ 'x' | int }}{{ '2.5' | float }}{{ 2.567 | round(2) }}"
                   "{{ 2.5 | round }}{{ '<b>' | safe }}"),
            "3430" "2.52.573.0<b>");
}

TEST(JinjaTemplate, ToJson) {
  EXPECT_EQ(render("{{ {'a': [1, 2.5, true, none], 'b': 'x\"y\n', 'c': {}} | tojson }}"),
            "{\"a\": [1, 2.5, true, null], \"b\": \"x\\\"y\\n\", \"c\": {}}");
  EXPECT_EQ(render("{{ {'a': [1], 'é': 'ü'} | tojson(indent=2) }}"), "{\n  \"a\": [\n    1\n  ],\n  \"é\": \"ü\"\n}");
  EXPECT_NE(error_of("{{ x | tojson }}").find("not JSON serializable"), std::string::npos);
}

TEST(JinjaTemplate, MethodsAndGlobals) {
  EXPECT_EQ(render("[{{ '  a b '.strip() }}][{{ 'xxa'.lstrip('x') }}][{{ 'a  '.rstrip() }}]{{ 'a,b'.split(',') }}"
                   "{{ ' a  b '.split() }}"),
            "[a b][a][a]['a', 'b']['a', 'b']");
  EXPECT_EQ(render("{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith(('x', 'c')) }}{{ 'Ab'.upper() }}{{ 'Ab'.lower() }}"
                   "{{ 'aa'.replace('a', 'b') }}{{ '{} and {}'.format(1, 'x') }}"),
            "TrueTrueABabbb1 and x");
  EXPECT_EQ(render("{% set d = {'a': 1, 'b': 2} %}{{ d.keys() | list }}{{ d.values() | list }}{{ d.get('a') }}"
                   "{{ d.get('z') }}{{ d.get('z', 0) }}{{ d.items() | list }}"),
            "['a', 'b'][1, 2]1None0[['a', 1], ['b', 2]]");
  EXPECT_EQ(render("{{ range(3) | list }}{{ range(1, 7, 2) | join }}"), "[0, 1, 2]135");
  RenderLimits fixed;
  fixed.now = 86400 * 365;  // 1971-01-01 UTC
  EXPECT_EQ(render("{{ strftime_now('%d %b %Y') }}", chat_vars(), fixed), "01 Jan 1971");
}

TEST(JinjaTemplate, SyntaxErrorsNameTheTemplateAndLine) {
  EXPECT_NE(error_of("a\n{% if true %}x").find("line 2"), std::string::npos);
  EXPECT_NE(error_of("{{ 1 + }}").find("unexpected"), std::string::npos);
  EXPECT_NE(error_of("{{ 'abc }}").find("string literal is not closed"), std::string::npos);
  EXPECT_NE(error_of("x\n\n{{ a ").find("line 3"), std::string::npos);
  EXPECT_NE(error_of("{# open").find("comment"), std::string::npos);
  EXPECT_NE(error_of("{% include 'x' %}").find("unknown or unsupported tag 'include'"), std::string::npos);
  EXPECT_NE(error_of("{% endfor %}").find("unknown or unsupported tag"), std::string::npos);
}

TEST(JinjaTemplate, RenderErrors) {
  EXPECT_NE(error_of("\n{{ 'a' | frobnicate }}").find("line 2: unknown filter 'frobnicate'"), std::string::npos);
  const std::string raised = error_of("{{ raise_exception('Roles must alternate') }}");
  EXPECT_NE(raised.find("raised an exception"), std::string::npos);
  EXPECT_NE(raised.find("Roles must alternate"), std::string::npos);
  EXPECT_NE(error_of("{{ nothing.role }}").find("'nothing' is undefined"), std::string::npos);
  EXPECT_NE(error_of("{{ 1 + 'a' }}").find("unsupported operand"), std::string::npos);
  EXPECT_NE(error_of("{{ 1 // 0 }}").find("by zero"), std::string::npos);
  EXPECT_NE(error_of("{{ x is frob }}").find("unknown test"), std::string::npos);
}

TEST(JinjaTemplate, WorkAndSizeAreBounded) {
  RenderLimits small;
  small.max_iterations = 1000;
  EXPECT_NE(error_of("{% for i in range(100) %}{% for j in range(100) %}{% endfor %}{% endfor %}", small)
                .find("too much work"),
            std::string::npos);
  EXPECT_NE(error_of("{% for i in range(100000000000) %}{% endfor %}").find("too much work"), std::string::npos);
  EXPECT_NE(error_of("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}").find("macro calls nested deeper"),
            std::string::npos);
  std::string ifs;
  for (int k = 0; k < 150; ++k) ifs += "{% if true %}";
  ifs += "{{ f(n + 1) }}";
  for (int k = 0; k < 150; ++k) ifs += "{% endif %}";
  EXPECT_NE(error_of("{% macro f(n) %}" + ifs + "{% endmacro %}{{ f(0) }}").find("nested too deeply"), std::string::npos);
  RenderLimits tiny;
  tiny.max_output = 1000;
  EXPECT_NE(error_of("{% for i in range(100) %}0123456789abcdef{% endfor %}", tiny).find("output is larger"),
            std::string::npos);
  EXPECT_NE(error_of("{{ 'ab' * 100000000000 }}").find("longer than"), std::string::npos);
  // Growing a string by concatenation in a loop copies quadratically: the copying is bounded.
  EXPECT_NE(error_of("{% set ns = namespace(s='') %}{% for i in range(900000) %}{% set ns.s = ns.s ~ 'abcdefgh' %}"
                     "{% endfor %}")
                .find("too much text"),
            std::string::npos);
  // Deep nesting in the source is refused while parsing, not by the stack.
  EXPECT_NE(error_of("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}").find("nesting deeper"), std::string::npos);
  EXPECT_NE(error_of("{{ " + std::string(3000, '[')).find("t.jinja"), std::string::npos);
  std::string nested;
  for (int k = 0; k < 500; ++k) nested += "{% if true %}";
  EXPECT_NE(error_of(nested).find("nesting deeper"), std::string::npos);
}

}  // namespace
}  // namespace memtx::test
