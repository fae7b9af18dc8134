package dev.amalgam.scan.jinja;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The template judge on sandbox-escape techniques (each must be caught) and on realistic chat templates (none flagged). */
public class TemplateJudgeTest {

    @ParameterizedTest
    @ValueSource(strings = {
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ ''['\\x5f\\x5fclass\\x5f\\x5f'] }}",
        "{{ ''['\\u005f\\u005fclass\\u005f\\u005f'] }}",
        "{{ ''['\\137\\137class\\137\\137'] }}",
        "{{ ''['\\N{LOW LINE}\\N{LOW LINE}class\\N{LOW LINE}\\N{LOW LINE}'] }}",
        "{{ ''['__cla' ~ 'ss__'] }}",
        "{{ ''['__cla' + 'ss__'] }}",
        "{{ ''['_' * 2 ~ 'class' ~ '_' * 2] }}",
        "{{ ''[['_', '_', 'class', '_', '_']|join] }}",
        "{{ ''['-'.join(['', '', 'class', '', '']).replace('-', '_')] }}",
        "{{ ''['{}{}class{}{}'.format('_', '_', '_', '_')] }}",
        "{{ ''['%c%cclass%c%c'|format(95, 95, 95, 95)] }}",
        "{{ ''['%s%sclass%s%s' % ('_', '_', '_', '_')] }}",
        "{{ ''['ssalc__'|reverse ~ '__'] }}",
        "{{ ''[('__CLASS__')|lower] }}",
        "{{ lipsum.__globals__['os'].popen('id').read() }}",
        "{{ lipsum['__glo' ~ 'bals__'] }}",
        "{{ lipsum.func_globals }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ joiner.x }}",
        "{{ namespace.__init__ }}",
        "{{ self._TemplateReference__context }}",
        "{{ self.blocks }}",
        "{{ range.__self__ }}",
        "{{ dict.mro() }}",
        "{% set x = lipsum %}{{ x.y }}",
        "{% set f = cycler %}{{ f['z'] }}",
        "{{ ''|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
        "{{ ''|attr(messages[0].role) }}",
        "{{ ''|attr('a' ~ 'b') }}",
        "{{ messages|map(attribute='__class__')|list }}",
        "{{ messages|map('attr', '__class__')|list }}",
        "{{ messages|selectattr('__class__.__name__', 'equalto', 'x')|list }}",
        "{{ messages|sort(attribute='role.__class__')|list }}",
        "{{ '{0.__class__}'.format(messages) }}",
        "{{ '{0.x}'.format(messages) }}",
        "{{ messages[0].content.format(messages) }}",
        "{% set k = '_' * 2 ~ 'class' ~ '_' * 2 %}{{ messages[k] }}",
        "{% set k %}__class__{% endset %}{{ messages[k] }}",
        "{% for k in ['_' ~ '_class_' ~ '_'] %}{{ messages[k] }}{% endfor %}",
        "{% set ns = namespace(k='_' ~ '_class_' ~ '_') %}{{ messages[ns.k] }}",
        "{% set ns = namespace(k='role') %}{% set ns.k = '_' ~ 'x' %}{{ messages[ns.k] }}",
        "{% macro m() %}__class__{% endmacro %}{{ messages[m()] }}",
        "{{ messages[messages[0].role ~ '_'] }}",
        "{{ messages._x }}",
        "{{ ''['\\x5f'] }}",
    })
    void sandboxEscapesAreFound(String template) {
        List<TemplateJudge.Violation> v = TemplateJudge.judge(template);
        assertFalse(v.isEmpty(), template);
    }

    /** A realistic chat template written for this test with the constructs real ones use. */
    public static final String BENIGN = """
            {%- set loop_messages = messages -%}
            {%- set ns = namespace(system='', last_user=-1, found=false) -%}
            {%- if messages[0]['role'] == 'system' -%}
                {%- set ns.system = messages[0]['content'] | trim -%}
                {%- set loop_messages = messages[1:] -%}
            {%- endif -%}
            {%- for m in messages | selectattr('role', 'equalto', 'user') -%}{% set ns.found = true %}{%- endfor -%}
            {%- macro render(content) -%}
                {%- if content is string -%}{{ content }}{%- else -%}
                {%- for part in content if part.type == 'text' %}{{ part['text'] }}{% endfor -%}
                {%- endif -%}
            {%- endmacro -%}
            {{- bos_token -}}
            {%- if tools is defined and tools %}{{ '<tools>' ~ (tools | tojson(indent=2)) ~ '</tools>\\n' }}{% endif -%}
            {%- if ns.system %}<|system|>{{ ns.system }}<|end|>{% endif -%}
            {%- for message in loop_messages -%}
                {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
                    {{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') -}}
                {%- endif -%}
                {%- set role = message.role | lower -%}
                {%- if loop.index0 > 0 and loop_messages[loop.index0 - 1]['role'] == role %}{% continue %}{% endif -%}
                {{- '<|' ~ role ~ '|>\\n' -}}
                {%- if message.tool_calls is defined -%}
                    {%- for call in message.tool_calls -%}
                        {%- set fn = call.function if call.function is defined else call -%}
                        {{- '{"name": "' + fn.name + '", "arguments": ' + (fn.arguments | tojson) + '}' -}}
                        {%- for key, value in fn.arguments.items() %}{{ key }}={{ value }}{% if not loop.last %}, {% endif %}{% endfor -%}
                    {%- endfor -%}
                {%- endif -%}
                {%- if role == 'assistant' %}{% generation %}{{ render(message['content']) }}{% endgeneration %}{% else -%}
                {{- render(message.content) -}}{%- endif -%}
                {{- '<|end|>\\n' -}}
            {%- endfor -%}
            {%- if add_generation_prompt -%}{{ '<|assistant|>\\n' }}{%- endif -%}
            {#- a comment with {{ braces }} -#}
            {% raw %}{{ not parsed }}{% endraw %}
            {{- {'a': {'b': [1, 2.5, none, true]}}['a']['b'][0] -}}
            {{- strftime_now('%Y-%m-%d') -}}
            {%- for i in range(messages | length) %}{{ messages[i]['role'] }}{{ messages[-1].content[:10] }}{% endfor -%}
            {{- messages | map(attribute='content') | join('\\n') -}}
            {{- (messages | last).role if messages else '' -}}
            {%- with x = messages | length %}{{ x * 2 }}{% endwith -%}
            {{- "it's" ~ 'a "test"' ~ '\\u2019' -}}
            {%- set _ = ns.update if ns is defined else none -%}{%- set _args = messages | length -%}{{ _args }}
            """;

    @Test
    void aRealisticTemplateIsClean() {
        assertEquals(List.of(), TemplateJudge.judge(BENIGN));
    }

    @Test
    void syntaxErrorsAreNeverAPass() {
        for (String bad : new String[] {"{{ x ", "{% if x %}", "{% for %}", "{{ x[ }}", "{% unknowntag %}", "{{ 'open }}",
            "{# never closed", "{% endif %}", "{{ x | }}"}) {
            assertThrows(TemplateSyntaxError.class, () -> TemplateJudge.judge(bad), bad);
        }
    }

    @Test
    void violationsNameTheLine() {
        List<TemplateJudge.Violation> v = TemplateJudge.judge("line one\n\n{{ x.__class__ }}");
        assertEquals(3, v.getFirst().line());
        assertTrue(v.getFirst().what().contains("__class__"));
    }
}
