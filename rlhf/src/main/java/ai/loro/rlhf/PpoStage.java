package ai.loro.rlhf;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.loro.core.LoroException;
import ai.loro.core.generate.Generator;
import ai.loro.core.generate.SamplingParams;
import ai.loro.core.loss.LossOps;
import ai.loro.core.model.ActivationCheckpoints;
import ai.loro.core.model.LlamaConfig;
import ai.loro.core.model.LlamaModel;
import ai.loro.core.recipe.Recipe;
import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.datasets.Templates;
import ai.loro.datasets.TurnBoundaries;
import ai.djl.ndarray.types.Shape;
import ai.loro.core.train.AdamW;
import ai.loro.core.train.Checkpoints;
import ai.loro.core.train.GradClip;
import ai.loro.core.train.LossScaler;
import ai.loro.core.train.Schedule;
import ai.loro.core.train.MetricsLog;
import ai.loro.core.train.RecipeTraining;
import ai.loro.core.train.TrainLoop;
import ai.loro.lora.RecipeAdapters;
import ai.loro.datasets.Splits;
import ai.loro.lora.LoraAdapter;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * PPO-based RLHF with TRL's PPOTrainer semantics: setup (prompts, policy = base + LoRA, reference
 * = the same model with the adapter switched off, a value head on the policy's hidden states,
 * rewards from a reward model and/or {@link RewardFunction}s), train, save (PEFT adapter + value
 * head). Each PPO step {@code k}:
 * <ol>
 *   <li>rollout: {@code rollout_batch_size} prompts (position {@code k·B} of the endless shuffled
 *       stream), sampled with the KV-cache generator, seed = {@code stepSeed(seed, k)};
 *   <li>scoring (no gradient): policy log-probs and values, reference log-probs (adapter off),
 *       rewards, per-token KL (k1 or k3) × β, the score at each response's last token
 *       ({@link Rewards#withKl}), GAE, whitened advantages. Log-probs are of the logits divided by
 *       {@code temperature + 1e-7}, the distribution that was sampled (with top_k/top_p the
 *       sampled distribution is truncated, as in TRL);
 *   <li>optimisation: {@code ppo_epochs} passes over {@code num_mini_batches} shuffled mini-batches,
 *       each: forward with gradient, {@code PpoLoss.policy + vf_coef·PpoLoss.value −
 *       ent_coef·entropy}, backward, global-norm clip, AdamW step;
 *   <li>the KL controller update, metrics, samples, checkpoint.
 * </ol>
 * LoRA dropout is off throughout (TRL disables dropout for PPO), so the first epoch's ratio is 1.
 * The learning-rate schedule advances once per PPO step (as TRL's). Resuming replays exactly:
 * every random draw is a function of (seed, step).
 */
public final class PpoStage {
    private PpoStage() {}

    /** Outputs: the PEFT adapter, the merged policy (export.merged, else null), the value head. */
    public record Result(Path adapter, Path merged, Path valueHead, int steps, Map<String, Double> lastMetrics) {}

    /** Log-probs (and values, when a head is given) of a rollout's response tokens. */
    public record Forward(NDArray logProbs, NDArray values, NDArray logits) {}

    public static Result run(Recipe r, PrintStream log) {
        Recipe.Ppo cfg = r.ppo();
        validate(r);
        Path out = r.outputDir();
        RecipeTraining.prepareOutput(r); // output_dir, recipe.yaml; deterministic: true = one libtorch thread
        // ---- setup
        LoroTokenizer tokenizer = LoroTokenizer.load(r.baseModel());
        Prompts prompts = Prompts.load(r, tokenizer, log);
        List<RewardFunction> functions = new ArrayList<>(cfg.rewardFunctions().stream().map(RewardFunction::of).toList());
        Device device = RecipeTraining.device(r);
        ClassifierReward classifier = cfg.rewardClassifier()
                .map(p -> new ClassifierReward(p, cfg.rewardClassifierLabel().orElse(null), device)).orElse(null);
        if (classifier != null) {
            functions.add(classifier);
        }
        if (functions.stream().anyMatch(RewardFunction::needsAnswer)) {
            prompts.all().stream().filter(p -> p.answer() == null).findFirst().ifPresent(p -> {
                throw new LoroException(p.source() + ": reward functions " + cfg.rewardFunctions()
                        + " need an 'answer' on every prompt row");
            });
        }
        LlamaModel policy = LlamaModel.load(r.baseModel(), RecipeTraining.computeDtype(r), device);
        LlamaModel rewardModel = cfg.rewardModel().map(p -> loadRewardModel(p, policy.config(), r.seed(), device)).orElse(null);
        Recipe.Adapter a = r.adapter();
        RecipeTraining.prepareModel(policy, r, log); // quantize (a quantized frozen base, and reference), gradient_checkpointing
        LoraAdapter adapter = RecipeAdapters.attach(policy, r);
        adapter.setTraining(false); // no dropout in PPO
        ValueHead valueHead = new ValueHead(policy.config().hiddenSize(), policy.manager(), policy.dtype());
        Map<String, NDArray> trainable = new LinkedHashMap<>(adapter.parameters());
        trainable.putAll(valueHead.parameters());
        AdamW optimizer = RecipeTraining.optimizer(r, trainable);
        LossScaler scaler = LossScaler.forOptimizer(optimizer); // fp16: true
        int batch = cfg.rolloutBatchSize();
        int steps = r.maxSteps().isPresent() ? r.maxSteps().getAsInt()
                : (int) Math.max(1, Math.ceil(r.numEpochs() * prompts.size() / batch));
        Schedule schedule = RecipeTraining.schedule(r, steps); // advanced once per PPO step, as TRL's
        KlController kl = cfg.targetKl().isPresent()
                ? KlController.adaptive(cfg.klCoef(), cfg.targetKl().getAsDouble(), cfg.klHorizon())
                : KlController.fixed(cfg.klCoef());
        int saveSteps = r.saveSteps().orElse(Math.max(1, steps / 4));
        long seed = r.seed();
        int start = 0;
        Optional<Path> ckpt = Checkpoints.latest(out);
        if (ckpt.isPresent()) {
            ObjectNode state = Checkpoints.readState(ckpt.get());
            if (!state.has("kl_controller")) {
                throw new LoroException(ckpt.get() + ": not a PPO checkpoint (no KL controller state); use a fresh output_dir"
                        + " or remove " + Checkpoints.dir(out));
            }
            start = state.path("step").asInt();
            Checkpoints.restore(ckpt.get(), trainable, optimizer, state.path("optimizer").path("step").asLong(start));
            if (scaler != null) {
                scaler.restore(state);
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> ks = MetricsLog.JSON.convertValue(state.path("kl_controller"), Map.class);
            kl = KlController.fromState(KlController.State.fromMap(ks));
            log.printf("resuming from %s (step %d of %d)%n", ckpt.get(), start, steps);
        }
        Set<Long> eos = new HashSet<>(policy.config().eosTokenIds());
        if (tokenizer.eosId() != null) {
            eos.add(tokenizer.eosId());
        }
        long padId = policy.config().padTokenId() != null ? policy.config().padTokenId()
                : tokenizer.padId() != null ? tokenizer.padId() : 0L;
        Generator generator = new Generator(policy, eos, ids -> tokenizer.decode(ids, true));
        log.printf("PPO on %s: %,d trainable parameters (LoRA r=%d + value head), reward = %s; %d steps of %d prompts,"
                        + " %d epochs x %d mini-batches, kl %s %s%n",
                r.baseModel().getFileName(), trainable.values().stream().mapToLong(p -> p.getShape().size()).sum(), a.r(),
                rewardSources(cfg), steps, batch, cfg.ppoEpochs(), cfg.numMiniBatches(), cfg.klEstimator(),
                cfg.targetKl().isPresent() ? "adaptive (target " + cfg.targetKl().getAsDouble() + ")" : "fixed " + cfg.klCoef());
        if (a.dropout() > 0) {
            log.println("note: adapter.dropout is not used by PPO (dropout is off, as in TRL, so the first epoch's ratio is 1)");
        }
        // ---- train
        Map<String, Double> last = Map.of();
        NDManager base = NDManager.newBaseManager(policy.manager().getDevice());
        base.setName("ppo");
        try (base; MetricsLog metrics = new MetricsLog(out.resolve("metrics.jsonl"), start);
             MetricsLog samples = new MetricsLog(out.resolve("samples.jsonl"), start)) {
            Step step = new Step(r, policy, rewardModel, functions, valueHead, optimizer, scaler, generator, prompts, padId,
                    rewardModel == null ? new long[0] : rewardTail(r, tokenizer, log));
            for (int k = start; k < steps; k++) {
                int done = k + 1;
                double lr = schedule.lr(k);
                double coef = kl.value();
                StepOutput o = step.run(base, k, seed, coef, lr);
                kl.update(o.metrics().get("objective/kl"), batch);
                ObjectNode line = MetricsLog.JSON.createObjectNode();
                line.put("step", done);
                line.put("split", "train");
                MetricsLog.put(line, "lr", lr);
                o.metrics().forEach((key, v) -> MetricsLog.put(line, key, v));
                metrics.write(line);
                last = o.metrics();
                if (cfg.sampleEvery() > 0 && (done % cfg.sampleEvery() == 0 || done == 1)) {
                    printSamples(log, done, o, samples);
                }
                if (done % saveSteps == 0 || done == steps) {
                    save(out, done, seed, steps, (long) done * batch, trainable, optimizer, scaler, kl, r);
                }
                if (done % r.loggingSteps() == 0 || done == steps) {
                    log.printf(Locale.ROOT, "step %d/%d: reward %.4f ± %.4f, kl %.4f (coef %.4g), policy loss %.4f,"
                                    + " value loss %.4f, clipfrac %.3f; %.2fs gen + %.2fs score + %.2fs opt%n", done, steps,
                            o.metrics().get("env/reward_mean"), o.metrics().get("env/reward_std"),
                            o.metrics().get("objective/kl"), coef, o.metrics().get("ppo/loss/policy"),
                            o.metrics().get("ppo/loss/value"), o.metrics().get("ppo/policy/clipfrac"),
                            o.metrics().get("time/generation_s"), o.metrics().get("time/scoring_s"),
                            o.metrics().get("time/optimization_s"));
                }
            }
        }
        // ---- save
        RecipeAdapters.Saved saved = RecipeAdapters.saveCausalLm(r, policy, adapter, log); // adapter (+ merged)
        Path headFile = out.resolve(ValueHead.FILE);
        valueHead.save(headFile);
        log.printf("done: %d PPO steps; %s, value head %s%n", steps, saved.describe(), headFile);
        adapter.close();
        if (classifier != null) {
            classifier.close();
        }
        if (rewardModel != null) {
            rewardModel.close();
        }
        optimizer.close();
        policy.close();
        tokenizer.close();
        return new Result(saved.adapter(), saved.merged(), headFile, steps, last);
    }

    /** Recipe checks the schema cannot express; each a one-line LoroException. */
    static void validate(Recipe r) {
        Recipe.Ppo cfg = r.ppo();
        if (cfg.rewardModel().isEmpty() && cfg.rewardFunctions().isEmpty() && cfg.rewardClassifier().isEmpty()) {
            throw new LoroException("stage ppo needs a reward: set ppo.reward_model (a reward-stage checkpoint),"
                    + " ppo.reward_functions (e.g. [exact_match]) and/or ppo.reward_classifier (+ reward_classifier_label)");
        }
        if (cfg.rewardClassifierLabel().isPresent() && cfg.rewardClassifier().isEmpty()) {
            throw new LoroException("ppo.reward_classifier_label is set but ppo.reward_classifier (the classifier checkpoint) is not");
        }
        if (r.adapter().type() != Recipe.AdapterType.LORA) {
            throw new LoroException("stage ppo supports adapter.type lora only (the reference model is the base with the"
                    + " adapter switched off); full fine-tuning (type none) is not available for PPO yet");
        }
        if (cfg.rolloutBatchSize() % cfg.numMiniBatches() != 0) {
            throw new LoroException("ppo.rollout_batch_size " + cfg.rolloutBatchSize() + " must be a multiple of"
                    + " ppo.num_mini_batches " + cfg.numMiniBatches());
        }
        if (cfg.rolloutBatchSize() < 2) {
            throw new LoroException("ppo.rollout_batch_size must be at least 2 (advantages are whitened over the batch)");
        }
        cfg.rewardFunctions().forEach(RewardFunction::of);
    }

    private static String rewardSources(Recipe.Ppo cfg) {
        List<String> s = new ArrayList<>();
        cfg.rewardModel().ifPresent(p -> s.add("reward model " + p.getFileName()));
        s.addAll(cfg.rewardFunctions());
        cfg.rewardClassifier().ifPresent(p -> s.add("classifier " + p.getFileName() + " p(" + cfg.rewardClassifierLabel().orElse("?") + ")"));
        cfg.missingEosPenalty().ifPresent(p -> s.add("missing_eos_penalty " + p));
        return String.join(" + ", s);
    }

    static LlamaModel loadRewardModel(Path dir, LlamaConfig policy, long seed, Device device) {
        LlamaConfig c = LlamaConfig.read(dir);
        if (!c.isSequenceClassifier() || c.numLabels() != 1) {
            throw new LoroException(dir + ": ppo.reward_model must be a *ForSequenceClassification checkpoint with one label"
                    + " (as the reward stage writes to output_dir/model), got " + c.architecture()
                    + (c.isSequenceClassifier() ? " with " + c.numLabels() + " labels" : ""));
        }
        if (c.vocabSize() != policy.vocabSize()) {
            throw new LoroException(dir + ": the reward model's vocabulary (" + c.vocabSize() + ") differs from the policy's ("
                    + policy.vocabSize() + "); it must share the policy's tokenizer");
        }
        return LlamaModel.loadAsClassifier(dir, 1, seed, DataType.FLOAT32, device);
    }

    /**
     * Response log-probs of {@code rows} of a rollout under {@code model} as it is now (adapters as
     * set), from logits divided by {@code temperature + 1e-7}; values too when {@code head} is given.
     */
    public static Forward forward(LlamaModel model, ValueHead head, Rollout ro, int[] rows, double temperature, NDManager m) {
        int p = ro.promptLen();
        int len = ro.length();
        NDArray ids = Rollout.rows(m, ro.ids(), len, rows);
        NDArray att = Rollout.rows(m, ro.attention(), len, rows);
        NDArray resp = Rollout.rows(m, ro.responseIds(), ro.responseLen(), rows);
        NDArray hidden = model.hiddenStates(ids, att, null); // (b, P + R, H)
        NDArray h = hidden.get(new NDIndex(":, {}:{}, :", p - 1, len - 1)); // (b, R, H): the states that predict the response
        NDArray logits = LossOps.times(model.logits(h), 1 / (temperature + 1e-7)); // (b, R, V)
        NDArray lp = logits.logSoftmax(-1).gather(resp.expandDims(-1), -1).squeeze(-1); // (b, R)
        return new Forward(lp, head == null ? null : head.forward(h), logits);
    }


    /**
     * Token ids the reward model sees after a rollout's EOS: what the chat template renders after an
     * assistant turn's end-of-turn marker and the reward stage kept in training (ChatML's newline),
     * so the score is read at the token the reward model was trained to score.
     */
    static long[] rewardTail(Recipe r, LoroTokenizer tok, PrintStream log) {
        long[] tail = TurnBoundaries.finalTurnTailIds(Templates.resolve(r.chatTemplateFor(r.datasets().get(0)), tok), tok);
        if (tail.length > 0) {
            log.printf("reward model: finished replies are scored with the template's %s after EOS, as in reward training%n",
                    MetricsLog.JSON.valueToTree(tok.decode(tail, false)));
        }
        return tail;
    }

    record StepOutput(Map<String, Double> metrics, Rollout rollout, double[] scores) {}

    /** One PPO step's work, with the long-lived pieces it needs. */
    private static final class Step {
        final Recipe r;
        final Recipe.Ppo cfg;
        final LlamaModel policy;
        final LlamaModel rewardModel;
        final List<RewardFunction> functions;
        final ValueHead head;
        final AdamW optimizer;
        final LossScaler scaler; // null unless the trainable parameters are fp16
        final Generator generator;
        final Prompts prompts;
        final long padId;
        final long[] rewardTail;

        Step(Recipe r, LlamaModel policy, LlamaModel rewardModel, List<RewardFunction> functions, ValueHead head,
             AdamW optimizer, LossScaler scaler, Generator generator, Prompts prompts, long padId, long[] rewardTail) {
            this.r = r;
            this.cfg = r.ppo();
            this.policy = policy;
            this.rewardModel = rewardModel;
            this.functions = functions;
            this.head = head;
            this.optimizer = optimizer;
            this.scaler = scaler;
            this.generator = generator;
            this.prompts = prompts;
            this.padId = padId;
            this.rewardTail = rewardTail;
        }

        StepOutput run(NDManager base, int k, long seed, double klCoef, double lr) {
            int stepSeed = TrainLoop.stepSeed(seed, k);
            Engine.getInstance().setRandomSeed(stepSeed);
            int b = cfg.rolloutBatchSize();
            Map<String, Double> metrics = new LinkedHashMap<>();
            // ---- rollout
            List<Prompts.Prompt> batch = new ArrayList<>();
            for (int i = 0; i < b; i++) {
                batch.add(prompts.at((long) k * b + i));
            }
            long t0 = System.nanoTime();
            List<Generator.Result> gens;
            boolean grad = JniUtils.isGradMode();
            JniUtils.setGradMode(false);
            try {
                gens = generator.generate(batch.stream().map(Prompts.Prompt::ids).toList(), new SamplingParams(
                        cfg.maxNewTokens(), cfg.temperature(), cfg.topK(), cfg.topP(), stepSeed, List.of(), true));
            } finally {
                JniUtils.setGradMode(grad);
            }
            Rollout ro = Rollout.of(batch, gens, padId);
            long t1 = System.nanoTime();
            // ---- scoring: old log-probs and values, reference log-probs, rewards, KL, GAE
            int len = ro.responseLen();
            float[] oldLp;
            float[] oldValues;
            float[] advantages;
            float[] returns;
            double[] scores = new double[b];
            JniUtils.setGradMode(false);
            try (NDManager sm = base.newSubManager(); NDScope ignored = new NDScope()) {
                int[] all = Rollout.all(b);
                Forward now = forward(policy, head, ro, all, cfg.temperature(), sm);
                NDArray lp = now.logProbs();
                NDArray values = now.values();
                NDArray ref;
                policy.setAdaptersEnabled(false);
                try {
                    ref = forward(policy, null, ro, all, cfg.temperature(), sm).logProbs();
                } finally {
                    policy.setAdaptersEnabled(true);
                }
                NDArray mask = sm.create(ro.responseMask(), new ai.djl.ndarray.types.Shape(b, len));
                if (rewardModel != null) {
                    long[][] scored = ro.forRewardModel(rewardTail, padId);
                    Shape shape = new Shape(b, ro.length() + rewardTail.length);
                    NDArray ids = sm.create(scored[0], shape);
                    NDArray att = sm.create(scored[1], shape);
                    float[] rm = rewardModel.classify(rewardModel.hiddenStates(ids, att, null), att)
                            .toType(DataType.FLOAT32, false).toFloatArray();
                    for (int i = 0; i < b; i++) {
                        scores[i] += rm[i];
                    }
                }
                for (int i = 0; i < b; i++) {
                    for (RewardFunction f : functions) {
                        scores[i] += f.score(ro.prompts().get(i).text(), gens.get(i).text(), ro.prompts().get(i).answer());
                    }
                }
                NDArray score = sm.create(scores);
                if (cfg.missingEosPenalty().isPresent()) {
                    boolean[] ended = new boolean[b];
                    for (int i = 0; i < b; i++) {
                        ended[i] = ro.endedWithEos(i);
                    }
                    score = Rewards.penalizeMissingEos(score, sm.create(ended), cfg.missingEosPenalty().getAsDouble());
                    scores = score.toDoubleArray();
                }
                NDArray klTok = LossOps.masked(KlPenalty.perToken(lp, ref, cfg.klEstimator()), mask); // (B, R)
                NDArray seqKl = KlPenalty.sequence(klTok, mask); // (B)
                NDArray rewards = Rewards.withKl(score, klTok, klCoef, mask); // (B, R)
                if (cfg.whitenRewards()) {
                    rewards = Whiten.whiten(rewards, mask, false);
                }
                NDArray vMasked = LossOps.masked(values, mask);
                Gae.Result gae = Gae.advantages(rewards, vMasked, mask, cfg.gamma(), cfg.lam());
                NDArray adv = Whiten.whiten(gae.advantages(), mask, true);
                oldLp = LossOps.masked(lp, mask).toFloatArray();
                oldValues = vMasked.toFloatArray();
                advantages = adv.toFloatArray();
                returns = gae.returns().toFloatArray();
                double meanScore = 0;
                for (double s : scores) {
                    meanScore += s / b;
                }
                double var = 0;
                for (double s : scores) {
                    var += (s - meanScore) * (s - meanScore) / Math.max(1, b - 1);
                }
                double meanKl = LossOps.scalar(seqKl.mean());
                double nonScore = -klCoef * meanKl;
                double eosCount = 0;
                for (int i = 0; i < b; i++) {
                    eosCount += ro.endedWithEos(i) ? 1 : 0;
                }
                metrics.put("objective/kl", meanKl);
                metrics.put("objective/entropy", LossOps.scalar(LossOps.maskedSum(lp.neg(), mask, 1).mean()));
                metrics.put("objective/kl_coef", klCoef);
                metrics.put("objective/non_score_reward", nonScore);
                metrics.put("objective/rlhf_reward", meanScore + nonScore);
                metrics.put("env/reward_mean", meanScore);
                metrics.put("env/reward_std", Math.sqrt(var));
                metrics.put("ppo/returns/mean", LossOps.scalar(LossOps.maskedMean(gae.returns(), mask)));
                metrics.put("ppo/val/mean", LossOps.scalar(LossOps.maskedMean(vMasked, mask)));
                metrics.put("val/num_eos_tokens", eosCount);
                metrics.put("ppo/mean_response_length", ro.generatedTokens() / (double) b);
            } finally {
                JniUtils.setGradMode(grad);
            }
            long t2 = System.nanoTime();
            // ---- optimisation
            int mbs = cfg.numMiniBatches();
            int size = b / mbs;
            Map<String, Double> sums = new LinkedHashMap<>();
            int updates = 0;
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < b; i++) {
                order.add(i);
            }
            for (int epoch = 0; epoch < cfg.ppoEpochs(); epoch++) {
                List<Integer> perm = Splits.shuffle(order, stepSeed * 7919L + epoch);
                for (int mb = 0; mb < mbs; mb++) {
                    int[] rows = perm.subList(mb * size, (mb + 1) * size).stream().mapToInt(Integer::intValue).toArray();
                    Map<String, Double> mm = new LinkedHashMap<>();
                    try (NDManager sm = base.newSubManager(); NDScope ignored = new NDScope();
                         GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray mask = Rollout.rows(sm, ro.responseMask(), len, rows);
                        Forward f = forward(policy, head, ro, rows, cfg.temperature(), sm);
                        PpoLoss.Result pg = PpoLoss.policy(f.logProbs(), Rollout.rows(sm, oldLp, len, rows),
                                Rollout.rows(sm, advantages, len, rows), mask, cfg.cliprange());
                        PpoLoss.Result vf = PpoLoss.value(f.values(), Rollout.rows(sm, oldValues, len, rows),
                                Rollout.rows(sm, returns, len, rows), mask, cfg.cliprangeValue());
                        NDArray loss = pg.loss().add(LossOps.times(vf.loss(), cfg.vfCoef()));
                        NDArray entropy = cfg.entCoef() > 0 ? PpoLoss.entropy(f.logits(), mask)
                                : PpoLoss.entropy(f.logits().stopGradient(), mask);
                        if (cfg.entCoef() > 0) {
                            loss = loss.sub(LossOps.times(entropy, cfg.entCoef()));
                        }
                        mm.putAll(pg.metrics());
                        mm.putAll(vf.metrics());
                        mm.put("ppo/policy/entropy", LossOps.scalar(entropy));
                        mm.put("ppo/loss/total", LossOps.scalar(loss));
                        // fp16: the loss scaled up for the backward pass (PPO's losses are means, as torch's GradScaler expects)
                        gc.backward(scaler == null ? loss : scaler.scaleLoss(loss));
                        ActivationCheckpoints.backward(); // the layers' half of a checkpointed policy's backward pass
                    } finally {
                        ActivationCheckpoints.discard();
                    }
                    double norm = scaler == null ? GradClip.clipGradients(optimizer.gradients().defined(), r.maxGradNorm(), 1.0)
                            : scaler.unscaleAndClip(optimizer.gradients(), r.maxGradNorm(), 1.0);
                    boolean overflow = scaler != null && !Double.isFinite(norm) && Double.isFinite(mm.get("ppo/loss/total"));
                    if (scaler != null) {
                        mm.put("ppo/loss_scale", scaler.scale());
                        mm.put("ppo/skipped_updates", overflow ? 1.0 : 0.0); // averaged: the fraction of updates skipped
                        if (!scaler.update(overflow)) { // fp16 gradients overflowed: skip, as torch's GradScaler does
                            optimizer.gradients().zero();
                            mm.forEach((key, v) -> sums.merge(key, v, Double::sum));
                            updates++;
                            continue;
                        }
                    }
                    if (!Double.isFinite(norm) || !Double.isFinite(mm.get("ppo/loss/total"))) {
                        optimizer.gradients().zero();
                        throw new LoroException("PPO loss or gradient norm became non-finite at step " + (k + 1)
                                + " (epoch " + epoch + ", mini-batch " + mb + "); lower learning_rate or set max_grad_norm");
                    }
                    mm.put("grad_norm", norm);
                    optimizer.step(lr);
                    mm.forEach((key, v) -> sums.merge(key, v, Double::sum));
                    updates++;
                }
            }
            int n = updates;
            sums.forEach((key, v) -> metrics.put(key, v / n));
            long t3 = System.nanoTime();
            double gen = (t1 - t0) / 1e9;
            metrics.put("time/generation_s", gen);
            metrics.put("time/scoring_s", (t2 - t1) / 1e9);
            metrics.put("time/optimization_s", (t3 - t2) / 1e9);
            metrics.put("time/rollout_tokens_per_s", ro.generatedTokens() / gen);
            return new StepOutput(metrics, ro, scores);
        }
    }

    private static void save(Path out, int done, long seed, int steps, long dataPosition, Map<String, NDArray> trainable,
                             AdamW optimizer, LossScaler scaler, KlController kl, Recipe r) {
        ObjectNode state = MetricsLog.JSON.createObjectNode();
        state.put("format", 1);
        state.put("stage", "ppo");
        state.put("step", done);
        state.put("seed", seed);
        state.put("max_steps", steps);
        state.putObject("optimizer").put("step", optimizer.stepCount());
        if (scaler != null) {
            scaler.save(state);
        }
        state.set("kl_controller", MetricsLog.JSON.valueToTree(kl.state().toMap()));
        state.put("data", dataPosition);
        Checkpoints.save(out, done, trainable, optimizer.state(), state, r.saveTotalLimit().orElse(0));
    }

    private static void printSamples(PrintStream log, int step, StepOutput o, MetricsLog samples) {
        Rollout ro = o.rollout();
        log.printf("samples at step %d:%n  %-32s | %-40s | %s%n", step, "prompt (end)", "response (start)", "reward");
        for (int i = 0; i < ro.batch(); i++) {
            Prompts.Prompt p = ro.prompts().get(i);
            String response = ro.responses().get(i).text();
            if (i < 4) {
                log.printf(Locale.ROOT, "  %-32s | %-40s | %.4f%n", clip(tail(p.text(), 32)), clip(head(response, 40)), o.scores()[i]);
            }
            ObjectNode line = MetricsLog.JSON.createObjectNode();
            line.put("step", step);
            line.put("prompt", p.text());
            line.put("response", response);
            if (p.answer() != null) {
                line.put("answer", p.answer());
            }
            MetricsLog.put(line, "reward", o.scores()[i]);
            line.put("finish_reason", ro.responses().get(i).finishReason());
            samples.write(line);
        }
    }

    private static String tail(String s, int n) {
        return s.length() <= n ? s : "…" + s.substring(s.length() - n + 1);
    }

    private static String head(String s, int n) {
        return s.length() <= n ? s : s.substring(0, n - 1) + "…";
    }

    private static String clip(String s) {
        return s.replace("\n", "⏎").replace("\r", "");
    }
}
