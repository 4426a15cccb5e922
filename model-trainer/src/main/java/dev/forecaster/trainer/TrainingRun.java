package dev.forecaster.trainer;

import ai.djl.Device;
import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.model.History;
import dev.forecaster.model.LoadedModel;
import dev.forecaster.model.ModelArtifact;
import dev.forecaster.model.ModelArtifactException;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.model.ModelUpdates;
import dev.forecaster.model.Sample;
import dev.forecaster.model.Samples;
import dev.forecaster.model.ScalingFit;
import dev.forecaster.model.WindowPolicy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.LocalDate;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntConsumer;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One training round: split the history chronologically, fit scaling on the training windows,
 * train, backtest against persistence and least squares on the same test windows, and, when a
 * registry is given, compare with the model in service and publish only a better one. Publishing is
 * the last step: a round that fails before it publishes nothing.
 */
public final class TrainingRun {

  private static final Logger LOG = LoggerFactory.getLogger(TrainingRun.class);

  /** What a round decided about publishing. */
  public enum Decision {
    /** The challenger is the new version in service. */
    PUBLISHED,
    /** The model in service is at least as good on the same test windows. */
    KEPT_CHAMPION,
    /** The challenger does not beat tomorrow = today. */
    WORSE_THAN_PERSISTENCE,
    /** No registry (--no-publish): trained and reported only. */
    NOT_PUBLISHED
  }

  /**
   * @param template the model to train; its scaling is fitted here
   * @param testFrom first test target day; null takes the last 20% of windows
   * @param registry where models are published; null trains and reports only
   * @param force publish even when the challenger is not better
   * @param modelsDir versioned local copies of published models; null keeps none
   * @param publishFirst publish the first version of a model (none on the topic yet) even when it
   *     does not beat persistence: the job has nothing to forecast with until one is published
   * @param windows which readings make windows (the job's policy)
   */
  public record Request(
      ModelSpec template,
      TrainingSettings settings,
      LocalDate testFrom,
      ModelRegistry registry,
      boolean force,
      Path modelsDir,
      boolean publishFirst,
      WindowPolicy windows) {

    /** Trains and backtests only: no registry, nothing published. */
    public static Request backtest(
        ModelSpec template, TrainingSettings settings, LocalDate testFrom) {
      return new Request(
          template, settings, testFrom, null, false, null, false, WindowPolicy.DEFAULT);
    }

    /** Publishes to {@code registry} a model that beats persistence and the champion. */
    public static Request publish(
        ModelSpec template, TrainingSettings settings, LocalDate testFrom, ModelRegistry registry) {
      return new Request(
          template, settings, testFrom, registry, false, null, false, WindowPolicy.DEFAULT);
    }

    public Request forced() {
      return new Request(
          template, settings, testFrom, registry, true, modelsDir, publishFirst, windows);
    }

    public Request keepingCopiesIn(Path dir) {
      return new Request(template, settings, testFrom, registry, force, dir, publishFirst, windows);
    }

    public Request publishingTheFirstVersion(boolean yes) {
      return new Request(template, settings, testFrom, registry, force, modelsDir, yes, windows);
    }

    public Request withWindows(WindowPolicy policy) {
      return new Request(
          template, settings, testFrom, registry, force, modelsDir, publishFirst, policy);
    }
  }

  /** A champion scored on the challenger's test windows that it can forecast too. */
  public record ChampionComparison(
      long version, int commonWindows, double championMae, double challengerMae) {}

  public record Outcome(
      ModelSpec spec,
      Split split,
      Metrics model,
      Metrics persistence,
      Metrics linear,
      double[] predicted,
      List<NetworkTrainer.MemberRun> members,
      ChampionComparison champion,
      Decision decision,
      long version,
      String explanation) {}

  /**
   * A trained model and its backtest, before any publishing decision. The caller closes it (the
   * model holds native memory).
   */
  public record Trained(
      LoadedModel model,
      Split split,
      Metrics metrics,
      Metrics persistence,
      Metrics linear,
      double[] predicted,
      List<NetworkTrainer.MemberRun> members)
      implements AutoCloseable {

    public ModelSpec spec() {
      return model.spec();
    }

    @Override
    public void close() {
      model.close();
    }
  }

  /** What to do with a challenger, and why. */
  record Verdict(Decision decision, String why) {}

  private final Clock clock;

  public TrainingRun(Clock clock) {
    this.clock = clock;
  }

  public Outcome run(History everything, Request request, IntConsumer onEpoch) {
    History history = everything.withFeatures(request.template().features());
    try (Trained trained = train(history, request, onEpoch)) {
      ModelSpec spec = trained.spec();
      if (request.registry() == null) {
        return outcome(
            trained, spec, null, Decision.NOT_PUBLISHED, 0, "not published (--no-publish)");
      }
      Optional<ModelUpdate> latest = request.registry().latest(spec.name());
      ChampionComparison champion =
          latest
              .flatMap(
                  u -> compare(u, history, request.windows(), trained.split(), trained.predicted()))
              .orElse(null);
      Verdict verdict = decide(trained.metrics(), trained.persistence(), latest, champion, request);
      if (verdict.decision() != Decision.PUBLISHED) {
        LOG.info("{}: {}", spec.name(), verdict.why());
        return outcome(trained, spec, champion, verdict.decision(), 0, verdict.why());
      }
      long version = latest.map(ModelUpdate::getVersion).orElse(0L) + 1;
      spec = spec.withVersion(version, clock.millis());
      publish(request, trained.model(), spec);
      String why = published(version, trained, latest, champion, verdict.why());
      LOG.info("{}: {}", spec.name(), why);
      return outcome(trained, spec, champion, Decision.PUBLISHED, version, why);
    }
  }

  /**
   * Splits, fits scaling, trains and backtests, without publishing. The spec of the returned model
   * carries its settings and metrics.
   */
  public Trained train(History everything, Request request, IntConsumer onEpoch) {
    ModelSpec spec = request.template();
    History history = everything.withFeatures(spec.features());
    long carrying = history.readingsCarrying(spec.features());
    if (carrying < everything.readings()) {
      LOG.info(
          "{}: {} of {} readings carry its features {} ({} series); the others are not its",
          spec.name(),
          carrying,
          everything.readings(),
          spec.features(),
          history.bySeries().size());
    }
    List<Sample> samples = Samples.of(history, spec, request.windows());
    Split split = Split.chronological(samples, request.testFrom());
    spec = spec.withScaling(ScalingFit.fit(spec, split.train()));
    LOG.info(
        "{}: {} training, {} validation, {} test windows (test targets {} .. {})",
        spec.name(),
        split.train().size(),
        split.validation().size(),
        split.test().size(),
        split.testFrom(),
        split.testTo());
    NetworkTrainer.Result result =
        NetworkTrainer.train(spec, request.settings(), split.train(), split.validation(), onEpoch);
    LoadedModel model = result.model(); // with bias correction, the scaling of the target moved
    try {
      double[] actual = split.test().stream().mapToDouble(Sample::actual).toArray();
      double[] predicted = ModelScoring.predict(model, split.test());
      Metrics metrics = Metrics.of(predicted, actual);
      Metrics persistence = Metrics.of(Baselines.persistence(split.test()), actual);
      Metrics linear =
          Metrics.of(Baselines.linear(model.spec(), split.train(), split.test()), actual);
      ModelSpec measured =
          model
              .spec()
              .withMetrics(
                  request.settings().asMap(),
                  trainingMetrics(result),
                  backtestMetrics(metrics, persistence, linear, split));
      LoadedModel described = model.describedAs(measured);
      return new Trained(
          described, split, metrics, persistence, linear, predicted, result.members());
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /**
   * Whether a challenger is published: it must beat persistence and the champion on their common
   * test windows, unless forced ({@code --force}, or the first version with {@code publishFirst}).
   * Pure: the same inputs give the same verdict.
   */
  static Verdict decide(
      Metrics challenger,
      Metrics persistence,
      Optional<ModelUpdate> latest,
      ChampionComparison champion,
      Request request) {
    boolean beatsPersistence = challenger.mae() < persistence.mae();
    boolean beatsChampion = champion == null || champion.challengerMae() < champion.championMae();
    boolean forced = request.force() || (request.publishFirst() && latest.isEmpty());
    if (!beatsPersistence && !forced) {
      return new Verdict(
          Decision.WORSE_THAN_PERSISTENCE,
          String.format(
              "not published: MAE %.4f does not beat persistence %.4f",
              challenger.mae(), persistence.mae()));
    }
    if (!beatsChampion && !forced) {
      return new Verdict(
          Decision.KEPT_CHAMPION,
          String.format(
              "kept v%d: on %d common test windows its MAE %.4f is not beaten by %.4f",
              champion.version(),
              champion.commonWindows(),
              champion.championMae(),
              champion.challengerMae()));
    }
    return new Verdict(
        Decision.PUBLISHED, beatsPersistence && beatsChampion ? "" : " (forced: it is not better)");
  }

  private static String published(
      long version,
      Trained trained,
      Optional<ModelUpdate> latest,
      ChampionComparison champion,
      String forcedNote) {
    String against;
    if (champion != null) {
      against =
          String.format(
              ", champion v%d %.4f on %d common windows",
              champion.version(), champion.championMae(), champion.commonWindows());
    } else if (latest.isPresent()) {
      against = " (v" + latest.get().getVersion() + " could not be scored)";
    } else {
      against = " (first version)";
    }
    return String.format(
            "published v%d: MAE %.4f vs persistence %.4f",
            version, trained.metrics().mae(), trained.persistence().mae())
        + against
        + forcedNote;
  }

  private static Outcome outcome(
      Trained t,
      ModelSpec spec,
      ChampionComparison champion,
      Decision decision,
      long version,
      String why) {
    return new Outcome(
        spec,
        t.split(),
        t.metrics(),
        t.persistence(),
        t.linear(),
        t.predicted(),
        t.members(),
        champion,
        decision,
        version,
        why);
  }

  /**
   * Scores the published model on the test windows it can forecast, beside the challenger on the
   * same ones.
   */
  private Optional<ChampionComparison> compare(
      ModelUpdate update,
      History history,
      WindowPolicy windows,
      Split split,
      double[] challengerPredicted) {
    try (LoadedModel champion = ModelUpdates.load(update, Device.cpu())) {
      List<Sample> theirs =
          Samples.of(history.withFeatures(champion.spec().features()), champion.spec(), windows)
              .stream()
              .filter(s -> !s.targetDay().isBefore(split.testFrom()))
              .toList();
      Map<String, Integer> ours = new HashMap<>();
      for (int i = 0; i < split.test().size(); i++) {
        ours.put(split.test().get(i).key(), i);
      }
      List<Sample> common = theirs.stream().filter(s -> ours.containsKey(s.key())).toList();
      if (common.isEmpty()) {
        LOG.warn("champion v{} shares no test window with the challenger", update.getVersion());
        return Optional.empty();
      }
      double[] championPredicted = ModelScoring.predict(champion, common);
      double[] actual = common.stream().mapToDouble(Sample::actual).toArray();
      double[] challengerCommon =
          common.stream().mapToDouble(s -> challengerPredicted[ours.get(s.key())]).toArray();
      return Optional.of(
          new ChampionComparison(
              update.getVersion(),
              common.size(),
              Metrics.of(championPredicted, actual).mae(),
              Metrics.of(challengerCommon, actual).mae()));
    } catch (ModelArtifactException | IllegalArgumentException e) {
      LOG.warn(
          "the published {} v{} cannot be scored on this history: {}",
          update.getModelName(),
          update.getVersion(),
          e.getMessage());
      return Optional.empty();
    }
  }

  /**
   * Writes the local copy aside, publishes, then moves the copy into place; a failure leaves
   * neither.
   */
  private static void publish(Request request, LoadedModel model, ModelSpec spec) {
    byte[] artifact = ModelArtifact.write(model, spec);
    ModelUpdate update = ModelUpdates.of(spec, artifact);
    Path staged = null;
    Path target = null;
    try {
      if (request.modelsDir() != null) {
        Path dir = request.modelsDir().resolve(spec.name());
        target = dir.resolve("v" + spec.version());
        staged = dir.resolve(".v" + spec.version() + ".staged");
        deleteRecursively(staged);
        ModelArtifact.save(artifact, staged);
        Files.writeString(staged.resolve("model.json"), ModelArtifact.specJson(spec));
      }
      request.registry().publish(update);
      if (staged != null) {
        deleteRecursively(target);
        Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot write the local copy of " + spec.name() + " v" + spec.version(), e);
    } finally {
      if (staged != null) {
        try {
          deleteRecursively(staged);
        } catch (IOException e) {
          LOG.warn("could not remove {}: {}", staged, e.getMessage());
        }
      }
    }
  }

  private static Map<String, Double> trainingMetrics(NetworkTrainer.Result trained) {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("members", (double) trained.members().size());
    m.put("validationBiasShift", trained.outputShift());
    m.put(
        "meanBestEpoch",
        trained.members().stream()
            .mapToInt(NetworkTrainer.MemberRun::bestEpoch)
            .average()
            .orElse(0));
    m.put(
        "meanBestValidationLoss",
        trained.members().stream()
            .mapToDouble(
                r ->
                    r.validationLoss()
                        .get(Math.max(0, Math.min(r.bestEpoch(), r.validationLoss().size()) - 1)))
            .average()
            .orElse(Double.NaN));
    return m;
  }

  private static Map<String, Double> backtestMetrics(
      Metrics model, Metrics persistence, Metrics linear, Split split) {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("mae", model.mae());
    m.put("rmse", model.rmse());
    m.put("mape", model.mape());
    m.put("persistenceMae", persistence.mae());
    m.put("linearMae", linear.mae());
    m.put("testWindows", (double) model.n());
    m.put("testFromEpochDay", (double) split.testFrom().toEpochDay());
    return m;
  }

  private static void deleteRecursively(Path path) throws IOException {
    if (path == null || !Files.exists(path)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(path)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
