package ai.loro.core.recipe;

import static ai.loro.core.recipe.Schema.BOOL;
import static ai.loro.core.recipe.Schema.PATH;
import static ai.loro.core.recipe.Schema.STRING;
import static ai.loro.core.recipe.Schema.block;
import static ai.loro.core.recipe.Schema.listOf;
import static ai.loro.core.recipe.Schema.opt;
import static ai.loro.core.recipe.Schema.req;

import ai.loro.core.LoroException;
import ai.loro.core.recipe.Schema.Block;
import ai.loro.core.recipe.Schema.BlockType;
import ai.loro.core.recipe.Schema.Ctx;
import ai.loro.core.recipe.YamlTree.YMap;
import ai.loro.core.recipe.YamlTree.YNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A pipeline recipe: stages run in order, each one a recipe file of its own, where a stage may take
 * an earlier stage's output as its {@code base_model} (an SFT adapter merged into a full checkpoint)
 * or, for PPO, as its reward model.
 *
 * <pre>
 * output_dir: ../runs/dpo-style     # stage outputs go to output_dir/NAME
 * stages:
 *   - name: sft
 *     recipe: sft.yaml
 *   - name: dpo
 *     recipe: dpo.yaml
 *     base_model: sft               # the merged model of stage 'sft'
 *     set: [learning_rate=1e-3]     # --set overrides for this stage
 *   - name: gen1                    # a generate stage: no training, writes output_dir/gen1/pairs.jsonl
 *     generate: {model: dpo, reward_model: rm, prompts: prompts.jsonl, num_samples: 8, master: local[2]}
 *   - name: dpo2
 *     recipe: dpo.yaml
 *     base_model: dpo
 *     pairs: gen1                   # datasets.0.path = gen1's pairs.jsonl
 * </pre>
 */
public record Pipeline(Path file, Optional<Path> outputDir, List<Stage> stages) {
    /**
     * One stage: its name, recipe (a training stage) or {@code generate} block (a generate-and-score stage), and where
     * its inputs come from (stage names or paths); {@code pairs} names an earlier generate stage whose pairs become the
     * stage's first data set.
     */
    public record Stage(String name, Path recipe, Optional<String> baseModel, Optional<String> rewardModel, List<String> set,
                        Optional<Generate> generate, Optional<String> pairs) {
        public Stage(String name, Path recipe, Optional<String> baseModel, Optional<String> rewardModel, List<String> set) {
            this(name, recipe, baseModel, rewardModel, set, Optional.empty(), Optional.empty());
        }
    }

    // the number restrictions of Key.Is, for the pipeline file's own keys
    private static final Schema.Type NON_NEGATIVE = Schema.number(Key.Is.NON_NEGATIVE.test, Key.Is.NON_NEGATIVE.number);
    private static final Schema.Type NON_NEGATIVE_INT = Schema.integer(Key.Is.NON_NEGATIVE.min, Key.Is.NON_NEGATIVE.integer);
    private static final Schema.Type POSITIVE_INT = Schema.integer(Key.Is.POSITIVE.min, Key.Is.POSITIVE.integer);

    /**
     * A generate stage (rejection sampling, Llama 2; online iterative DPO, Xiong et al. 2024): {@code numSamples}
     * samples per prompt from {@code model}, each scored by {@code rewardModel}, then per prompt the best-vs-worst
     * pair; {@code master} set = run as the {@code loro spark generate} job there, else in this process.
     */
    public record Generate(String model, String rewardModel, Path prompts, int numSamples, double temperature, double topP,
                           int maxNewTokens, long seed, boolean chat, int batchSize, int sequenceLen, Optional<String> master,
                           int partitions) {}

    static final Block GENERATE = block(
            opt("model", STRING), // required when the stage has 'generate' (checked in STAGE: an absent block reads as defaults)
            opt("reward_model", STRING),
            opt("prompts", PATH),
            opt("num_samples", POSITIVE_INT, 8),
            opt("temperature", NON_NEGATIVE, 1.0),
            opt("top_p", Schema.number(v -> v > 0 && v <= 1, "a number in (0, 1]"), 1.0),
            opt("max_new_tokens", POSITIVE_INT, 64),
            opt("seed", NON_NEGATIVE_INT, 1),
            opt("chat", BOOL, true),
            opt("batch_size", POSITIVE_INT, 32),
            opt("sequence_len", POSITIVE_INT, 4096),
            opt("master", STRING),
            opt("partitions", NON_NEGATIVE_INT, 0));

    static final Block STAGE = block(
            (node, v, path) -> {
                boolean generate = node.entries().containsKey("generate");
                if ((v.get("recipe") == null) == !generate) {
                    throw new LoroException(node.where() + ": a stage has either 'recipe' (a training stage) or 'generate'"
                            + " (a generate stage), not " + (v.get("recipe") == null ? "neither" : "both"));
                }
                if (!generate) {
                    v.put("generate", null);
                } else {
                    Map<?, ?> g = (Map<?, ?>) v.get("generate");
                    for (String k : new String[] {"model", "reward_model", "prompts"}) {
                        if (g.get(k) == null) {
                            throw new LoroException(node.where() + ": missing required key 'generate." + k + "' (a generate stage"
                                    + " needs model, reward_model and prompts)");
                        }
                    }
                    for (String k : new String[] {"base_model", "reward_model", "set", "pairs"}) {
                        if (v.get(k) != null) {
                            throw new LoroException(node.where() + ": '" + k + "' is for training stages; a generate stage"
                                    + " names its models inside 'generate' (model, reward_model)");
                        }
                    }
                }
            },
            req("name", STRING),
            opt("recipe", PATH),
            opt("generate", new BlockType(GENERATE)),
            opt("base_model", STRING),
            opt("reward_model", STRING),
            opt("pairs", STRING),
            opt("set", listOf(STRING, false, "a list of key=value overrides")));

    static final Block TOP = block(
            opt("output_dir", PATH),
            req("stages", listOf(new BlockType(STAGE), true, "a list of stages (each with name and recipe)")));

    /** True when the YAML file lists {@code stages:} (a pipeline rather than a single-stage recipe). */
    public static boolean isPipeline(Path file) {
        try {
            YNode root = YamlTree.parse(Files.readString(file), file.toString());
            return root instanceof YMap m && m.entries().containsKey("stages");
        } catch (IOException e) {
            throw new LoroException(file + ": cannot read: " + e.getMessage());
        }
    }

    @SuppressWarnings("unchecked")
    public static Pipeline load(Path file) {
        YNode root;
        try {
            root = YamlTree.parse(Files.readString(file), file.toString());
        } catch (IOException e) {
            throw new LoroException(file + ": cannot read: " + e.getMessage());
        }
        if (!(root instanceof YMap top)) {
            throw new LoroException(file + ":1: a pipeline is a block with output_dir and stages");
        }
        Ctx ctx = new Ctx(file.toAbsolutePath().getParent().normalize(), List.of()); // no data set types here
        Map<String, Object> v = Schema.readBlock(TOP, top, "", ctx);
        List<Stage> stages = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (Map<String, Object> s : (List<Map<String, Object>>) v.get("stages")) {
            String name = (String) s.get("name");
            if (!name.matches("[A-Za-z0-9_.-]+")) {
                throw new LoroException(file + ": stage name '" + name + "' may use letters, digits, '.', '_' and '-' only");
            }
            if (names.contains(name)) {
                throw new LoroException(file + ": two stages are named '" + name + "'");
            }
            Map<String, Object> g = (Map<String, Object>) s.get("generate");
            Generate gen = g == null ? null : new Generate((String) g.get("model"), (String) g.get("reward_model"),
                    (Path) g.get("prompts"), (Integer) g.get("num_samples"), (Double) g.get("temperature"), (Double) g.get("top_p"),
                    (Integer) g.get("max_new_tokens"), (Integer) g.get("seed"), (Boolean) g.get("chat"), (Integer) g.get("batch_size"),
                    (Integer) g.get("sequence_len"), Optional.ofNullable((String) g.get("master")), (Integer) g.get("partitions"));
            List<String> refs = new ArrayList<>();
            refs.add((String) s.get("base_model"));
            refs.add((String) s.get("reward_model"));
            if (gen != null) {
                refs.add(gen.model());
                refs.add(gen.rewardModel());
            }
            for (String ref : refs) {
                if (ref != null && !names.contains(ref) && looksLikeStageName(ref, stages)) {
                    throw new LoroException(file + ": stage '" + name + "' refers to '" + ref
                            + "', which is not an earlier stage (earlier: " + String.join(", ", names) + ")");
                }
            }
            String pairs = (String) s.get("pairs");
            if (pairs != null && stages.stream().noneMatch(st -> st.name().equals(pairs) && st.generate().isPresent())) {
                throw new LoroException(file + ": stage '" + name + "': pairs: '" + pairs + "' is not an earlier generate stage");
            }
            if (gen != null && gen.master().isPresent() && !gen.master().get().matches("local(\\[(\\*|[1-9][0-9]*)\\])?|yarn|k8s://.+|spark://.+")) {
                throw new LoroException(file + ": stage '" + name + "': generate.master '" + gen.master().get()
                        + "' must be local[N], local[*], yarn, k8s://https://host:port or spark://host:port");
            }
            names.add(name);
            stages.add(new Stage(name, (Path) s.get("recipe"), Optional.ofNullable((String) s.get("base_model")),
                    Optional.ofNullable((String) s.get("reward_model")),
                    s.get("set") == null ? List.of() : (List<String>) s.get("set"), Optional.ofNullable(gen),
                    Optional.ofNullable(pairs)));
        }
        return new Pipeline(file, Optional.ofNullable((Path) v.get("output_dir")), List.copyOf(stages));
    }

    /** A reference without a path separator that names no file is meant as a stage. */
    private static boolean looksLikeStageName(String ref, List<Stage> earlier) {
        return !ref.contains("/") && !ref.contains("\\");
    }

    /** Names of the stages whose output a later stage consumes. */
    public Set<String> consumed() {
        Set<String> out = new HashSet<>();
        for (Stage s : stages) {
            s.baseModel().ifPresent(out::add);
            s.rewardModel().ifPresent(out::add);
            s.generate().ifPresent(g -> {
                out.add(g.model());
                out.add(g.rewardModel());
            });
        }
        return out;
    }
}
