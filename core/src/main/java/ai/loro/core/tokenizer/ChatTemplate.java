package ai.loro.core.tokenizer;

import ai.loro.core.LoroException;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Jinja chat template (tokenizer_config.json "chat_template", chat_template.jinja, or a builtin),
 * rendered with Jinjava set up as transformers sets up jinja2: trim_blocks, lstrip_blocks, whitespace
 * control on expressions, a json.dumps-compatible {@code tojson}, {@code raise_exception},
 * {@code strftime_now}, a pass-through {@code {% generation %}} tag, and the Python str methods and
 * stepped slices that templates use (see {@link PyishRewriter}).
 *
 * <p>Rendering never returns partial output: any error Jinjava records (including
 * {@code raise_exception}) becomes a {@link LoroException}.
 *
 * <p>Known differences from Python jinja2 that remain: booleans print as "true"/"false" and None as
 * "" (Python: "True"/"False"/"None"); {@code "str" is iterable} is false; {@code not X in Y} binds
 * differently; string repetition {@code "ab" * 2} fails.
 */
public final class ChatTemplate {
    private static final Jinjava JINJAVA = createJinjava();

    private static final Map<String, String> BUILTINS = new LinkedHashMap<>();

    /** The builtin templates' names, in order, as a recipe's {@code chat_template} allows them (checked below). */
    public static final String BUILTIN_NAMES = "llama3|chatml|alpaca|llama2";

    static {
        // Meta Llama 3 Instruct (tokenizer_config.json of Meta-Llama-3-8B-Instruct).
        BUILTINS.put("llama3", "{% set loop_messages = messages %}{% for message in loop_messages %}"
                + "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
                + "+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
                + "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
                + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}");
        // ChatML (the template transformers documents; Qwen, OpenHermes, axolotl chatml).
        BUILTINS.put("chatml", "{% for message in messages %}"
                + "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
                + "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}");
        // Stanford Alpaca prompts (train.py PROMPT_DICT), target = output + eos_token. A message with role
        // "input" right after a user message selects the prompt with an input.
        BUILTINS.put("alpaca", "{% for message in messages %}"
                + "{% if message['role'] == 'user' %}"
                + "{% if not loop.last and messages[loop.index0 + 1]['role'] == 'input' %}"
                + "{{ 'Below is an instruction that describes a task, paired with an input that provides further"
                + " context. Write a response that appropriately completes the request.\n\n### Instruction:\n'"
                + " + message['content'] + '\n\n### Input:\n' + messages[loop.index0 + 1]['content']"
                + " + '\n\n### Response:' }}"
                + "{% else %}"
                + "{{ 'Below is an instruction that describes a task. Write a response that appropriately"
                + " completes the request.\n\n### Instruction:\n' + message['content'] + '\n\n### Response:' }}"
                + "{% endif %}"
                + "{% elif message['role'] == 'input' %}"
                + "{% if loop.first or messages[loop.index0 - 1]['role'] != 'user' %}"
                + "{{ raise_exception('alpaca template: an input message must follow a user message') }}{% endif %}"
                + "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}"
                + "{% else %}{{ raise_exception('alpaca template: role must be user, input or assistant, got '"
                + " + message['role']) }}{% endif %}{% endfor %}");
        // Meta Llama 2 chat (the template of meta-llama/Llama-2-7b-chat-hf), written without comparing a
        // string with false, which Jinjava evaluates differently.
        BUILTINS.put("llama2", "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
                + "{% set system_message = messages[0]['content'] %}{% set has_system = true %}"
                + "{% else %}{% set loop_messages = messages %}{% set has_system = false %}{% endif %}"
                + "{% for message in loop_messages %}"
                + "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
                + "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
                + "{% endif %}"
                + "{% if loop.index0 == 0 and has_system %}"
                + "{% set content = '<<SYS>>\n' + system_message + '\n<</SYS>>\n\n' + message['content'] %}"
                + "{% else %}{% set content = message['content'] %}{% endif %}"
                + "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
                + "{% elif message['role'] == 'assistant' %}{{ ' ' + content.strip() + ' ' + eos_token }}"
                + "{% endif %}{% endfor %}");
        if (!String.join("|", BUILTINS.keySet()).equals(BUILTIN_NAMES)) {
            throw new IllegalStateException("BUILTIN_NAMES " + BUILTIN_NAMES + " != the builtins " + BUILTINS.keySet());
        }
    }

    private final String source;
    private final String rewritten;
    private final String description;

    private ChatTemplate(String source, String description) {
        this.source = source;
        this.description = description;
        this.rewritten = PyishRewriter.rewrite(source);
    }

    private static Jinjava createJinjava() {
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseTrimmingForNotesAndExpressions(true)
                        .build())
                .build();
        Jinjava j = new Jinjava(config);
        var ctx = j.getGlobalContext();
        ctx.registerFilter(new PyFunctions.ToJsonFilter());
        ctx.registerFilter(new PyFunctions.SliceFilter());
        for (String m : PyishRewriter.STR_METHODS) {
            ctx.registerFilter(new PyFunctions.StrMethodFilter(m));
        }
        ctx.registerFunction(new ELFunctionDefinition("", "raise_exception", PyFunctions.class, "raiseException",
                Object.class));
        ctx.registerFunction(new ELFunctionDefinition("", "strftime_now", PyFunctions.class, "strftimeNow",
                String.class));
        ctx.registerTag(new PyFunctions.GenerationTag());
        return j;
    }

    /**
     * A template from Jinja source; {@code sourceDescription} (e.g. "model/tokenizer_config.json
     * chat_template") names it in error messages.
     */
    public static ChatTemplate of(String jinjaSource, String sourceDescription) {
        String desc = sourceDescription == null || sourceDescription.isBlank() ? "chat template" : sourceDescription;
        if (jinjaSource == null || jinjaSource.isBlank()) {
            throw new LoroException(desc + ": chat template is empty; give Jinja source text");
        }
        return new ChatTemplate(jinjaSource, desc);
    }

    /** One of {@link #builtinNames()}: llama3, chatml, alpaca, llama2. */
    public static ChatTemplate builtin(String name) {
        String src = name == null ? null : BUILTINS.get(name);
        if (src == null) {
            throw new LoroException("chat template '" + name + "' is not a builtin; allowed: "
                    + String.join(", ", BUILTINS.keySet()));
        }
        return new ChatTemplate(src, "builtin chat template '" + name + "'");
    }

    public static List<String> builtinNames() {
        return List.copyOf(BUILTINS.keySet());
    }

    /** The Jinja source as given. */
    public String source() {
        return source;
    }

    /** The description given to {@link #of} (for builtins: "builtin chat template 'name'"). */
    public String name() {
        return description;
    }

    /**
     * Renders messages. {@code variables} (bos_token, eos_token, tools, enable_thinking, ...) are
     * passed to the template; "messages" and "add_generation_prompt" are set from the arguments.
     *
     * @throws LoroException when Jinjava records any error, with the template's own message for
     *     raise_exception
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, Object> variables) {
        if (messages == null) {
            throw new LoroException(description + ": messages is null; give a list of chat messages");
        }
        List<Map<String, Object>> msgs = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            Map<String, Object> mm = new LinkedHashMap<>();
            mm.put("role", m.role());
            mm.put("content", m.content());
            msgs.add(mm);
        }
        return renderMaps(msgs, addGenerationPrompt, variables);
    }

    /**
     * Renders messages given as maps (for messages with more keys than role and content, e.g.
     * tool_calls or reasoning_content).
     */
    public String renderMaps(List<? extends Map<String, ?>> messages, boolean addGenerationPrompt,
            Map<String, Object> variables) {
        Map<String, Object> bindings = new HashMap<>();
        if (variables != null) {
            bindings.putAll(variables);
        }
        bindings.put("messages", messages);
        bindings.put("add_generation_prompt", addGenerationPrompt);
        PyFunctions.RAISED.remove();
        RenderResult result;
        try {
            result = JINJAVA.renderForResult(rewritten, bindings);
        } catch (RuntimeException e) {
            String raised = PyFunctions.RAISED.get();
            PyFunctions.RAISED.remove();
            throw new LoroException(description + ": " + (raised != null ? "template raised: " + oneLine(raised)
                    : "cannot render: " + oneLine(String.valueOf(e.getMessage()))), e);
        }
        String raised = PyFunctions.RAISED.get();
        PyFunctions.RAISED.remove();
        if (raised != null) {
            throw new LoroException(description + ": template raised: " + oneLine(raised));
        }
        List<TemplateError> errors = result.getErrors();
        if (!errors.isEmpty()) {
            TemplateError first = errors.get(0);
            String more = errors.size() > 1 ? " (and " + (errors.size() - 1) + " more error(s))" : "";
            throw new LoroException(description + ": cannot render with Jinjava: line " + first.getLineno() + ": "
                    + oneLine(String.valueOf(first.getMessage())) + more
                    + "; if this template uses Python-only Jinja features, use a builtin template ("
                    + String.join(", ", BUILTINS.keySet()) + ")");
        }
        return result.getOutput();
    }

    static String oneLine(String s) {
        return s.replace("\r", "\\r").replace("\n", "\\n");
    }

    @Override
    public String toString() {
        return "ChatTemplate[" + description + "]";
    }
}
