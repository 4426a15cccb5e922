package dev.forecaster.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.forecaster.job.JobConfig;
import dev.forecaster.job.JobOptions;
import dev.forecaster.model.LstmKernelCheck;
import dev.forecaster.schemas.Topics;
import dev.forecaster.schemas.TrustedPackages;
import dev.forecaster.trainer.RetrainSchedule;
import dev.forecaster.trainer.TrainingPreset;
import java.io.File;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import javax.xml.parsers.DocumentBuilderFactory;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.FallbackKey;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

/**
 * docker-compose.yml and the images it builds, against the code: every image and Dockerfile input,
 * command, main class, job setting, Flink setting, CLI flag and topic name exists in the project
 * and agrees with its defaults. Nothing here starts a container (no Docker engine on the build
 * machines); what the images copy from the Maven build is checked as the build produces it.
 */
class DeployComposeTest {

  private static final Path ROOT = projectRoot();
  private static final Path FLINK_DOCKERFILE = ROOT.resolve("docker/flink/Dockerfile");
  private static final Path CLI_DOCKERFILE = ROOT.resolve("docker/cli/Dockerfile");
  private static final Set<String> PROFILES = Set.of("cpu", "gpu");
  private static final String PROMETHEUS_FACTORY =
      "org.apache.flink.metrics.prometheus.PrometheusReporterFactory";

  private static Map<String, Map<String, Object>> services;
  private static Map<String, Object> volumes;
  private static final List<String> unsetVariables = new ArrayList<>();
  private static Map<String, String> pom;

  @BeforeAll
  static void load() throws Exception {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    Object doc =
        new Yaml(new SafeConstructor(options))
            .load(Files.readString(ROOT.resolve("docker-compose.yml")));
    Map<String, Object> compose = map(interpolate(doc));
    services = new LinkedHashMap<>();
    map(compose.get("services")).forEach((name, svc) -> services.put(name, map(svc)));
    volumes = map(compose.get("volumes"));
    pom = pomProperties(ROOT.resolve("pom.xml"));
  }

  // ---------------------------------------------------------------------------------- images

  @Test
  void composeNeedsNoVariableSetToStart() {
    assertThat(unsetVariables).as("every ${VARIABLE} has a default").isEmpty();
  }

  @Test
  void everyServiceRunsAnImageBuiltHereOrThePinnedKafkaImage() throws IOException {
    for (var e : services.entrySet()) {
      Map<String, Object> svc = e.getValue();
      if (svc.containsKey("build")) {
        Map<String, Object> build = map(svc.get("build"));
        assertThat(build.get("context"))
            .as(e.getKey() + " builds from the repository root")
            .isEqualTo(".");
        Path dockerfile = ROOT.resolve(str(build.get("dockerfile")));
        assertThat(dockerfile).as(e.getKey() + " Dockerfile").isRegularFile();
        if (build.containsKey("target")) {
          assertThat(stages(dockerfile))
              .as(e.getKey() + " build target")
              .contains(str(build.get("target")));
        }
        assertThat(str(svc.get("image")))
            .as(e.getKey() + " names the image it builds")
            .startsWith("forecaster-");
      } else {
        assertThat(str(svc.get("image")))
            .as(e.getKey() + " image")
            .isEqualTo("apache/kafka:" + pom.get("kafka.version"));
      }
    }
    assertThat(argDefaults(FLINK_DOCKERFILE).get("FLINK_IMAGE"))
        .as("the Flink image of the pinned Flink and Java")
        .isEqualTo(
            "flink:" + pom.get("flink.version") + "-java" + pom.get("maven.compiler.release"));
  }

  @Test
  void dockerfilesCopyOnlyWhatTheRepositoryOrTheMavenBuildProvides() throws Exception {
    List<String> ignore =
        Files.readAllLines(ROOT.resolve(".dockerignore")).stream()
            .map(String::strip)
            .filter(l -> !l.isEmpty() && !l.startsWith("#"))
            .toList();
    assertThat(ignore).as(".dockerignore sends nothing but its exceptions").first().isEqualTo("*");
    List<String> included =
        ignore.stream().filter(l -> l.startsWith("!")).map(l -> trimSlash(l.substring(1))).toList();

    for (Path dockerfile : List.of(FLINK_DOCKERFILE, CLI_DOCKERFILE)) {
      for (Copy copy : copies(dockerfile)) {
        if (copy.fromStage() != null) {
          assertThat(stages(dockerfile)).contains(copy.fromStage());
          continue;
        }
        for (String source : copy.sources()) {
          String path = trimSlash(source);
          assertThat(included)
              .as(dockerfile + ": .dockerignore lets " + source + " into the context")
              .anyMatch(inc -> path.equals(inc) || path.startsWith(inc + "/"));
          Matcher m = Pattern.compile("([\\w-]+)/target/(.+)").matcher(path);
          if (m.matches()) {
            assertThat(buildOutputs(m.group(1)))
                .as(dockerfile + ": the Maven build of " + m.group(1) + " makes " + source)
                .anyMatch(out -> m.group(2).equals(out) || m.group(2).startsWith(out + "/"));
          } else {
            assertThat(ROOT.resolve(path)).as(dockerfile + " copies " + source).exists();
          }
        }
      }
    }
    // the CLI image keeps the repository's layout, where the forecast script looks for its jar
    assertThat(Files.readString(ROOT.resolve("forecast")))
        .contains("$home/forecast-cli/target/forecast-cli.jar");
    assertThat(copies(CLI_DOCKERFILE))
        .anyMatch(c -> c.destination().equals("./forecast-cli/target/forecast-cli.jar"));
  }

  @Test
  void flinkLibHoldsExactlyDjlPyTorchAndWhatTheyNeed() throws IOException {
    Path lib = packagedFlinkJob().resolve("flink-lib");
    Set<String> jars;
    try (Stream<Path> files = Files.list(lib)) {
      jars =
          files.map(f -> f.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
    }
    Set<String> djl =
        Set.of(
            "ai.djl.api-" + pom.get("djl.version") + ".jar",
            "ai.djl.pytorch.pytorch-engine-" + pom.get("djl.version") + ".jar",
            "ai.djl.pytorch.pytorch-jni-" + pom.get("pytorch-jni.version") + ".jar",
            "ai.djl.pytorch.pytorch-native-cpu-"
                + pom.get("pytorch.version")
                + "-linux-x86_64.jar");
    assertThat(jars)
        .as("flink-lib (after a version change, `mvn clean package` drops the old jars)")
        .containsAll(djl);
    Set<String> rest = new TreeSet<>(jars);
    rest.removeAll(djl);
    assertThat(rest)
        .as("besides DJL: one Gson and one JNA, nothing else (Flink's lib/ has SLF4J)")
        .hasSize(2)
        .anyMatch(j -> j.matches("com\\.google\\.code\\.gson\\.gson-[\\d.]+\\.jar"))
        .anyMatch(j -> j.matches("net\\.java\\.dev\\.jna\\.jna-[\\d.]+\\.jar"));
  }

  @Test
  void jobJarHoldsTheJobAndItsConnectorsButNeitherFlinkNorDjl() throws IOException {
    Path jar = packagedFlinkJob().resolve("forecaster-job.jar");
    Set<String> entries;
    String mainClass;
    try (JarFile jf = new JarFile(jar.toFile())) {
      entries = jf.stream().map(ZipEntry::getName).collect(Collectors.toSet());
      mainClass = jf.getManifest().getMainAttributes().getValue("Main-Class");
    }
    assertThat(mainClass).isEqualTo(jobClassOf("jobmanager"));
    assertThat(entries)
        .contains(
            "dev/forecaster/job/ForecastJob.class",
            "dev/forecaster/model/DjlRuntime.class",
            "dev/forecaster/avro/Reading.class",
            "org/apache/flink/connector/kafka/source/KafkaSource.class",
            "org/apache/kafka/clients/producer/KafkaProducer.class",
            "org/apache/avro/Schema.class",
            "org/apache/flink/formats/avro/typeutils/AvroTypeInfo.class");
    assertThat(entries)
        .as("Flink's runtime, DJL and SLF4J come from the cluster's lib/")
        .noneMatch(
            e ->
                e.startsWith("ai/djl/")
                    || e.startsWith("org/apache/flink/runtime/")
                    || e.startsWith("org/apache/flink/streaming/api/")
                    || e.startsWith("org/apache/flink/api/common/")
                    || e.startsWith("org/slf4j/"));
  }

  @Test
  void djlStartsFromFlinkLibAloneAsTheFlinkImageBuildRunsIt(@TempDir Path tmp) throws Exception {
    Path target = packagedFlinkJob();
    // what the cpu stage runs: lib/* and usrlib/forecaster-job.jar; Flink's lib/ adds SLF4J
    String slf4j =
        Path.of(LoggerFactory.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            .toString();
    String classpath =
        String.join(
            File.pathSeparator,
            target.resolve("flink-lib") + File.separator + "*",
            target.resolve("forecaster-job.jar").toString(),
            slf4j);
    assertThat(runs(FLINK_DOCKERFILE, "cpu"))
        .anyMatch(r -> r.contains("dev.forecaster.model.DjlRuntime"));

    Path log = tmp.resolve("probe.log");
    Process probe =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                classpath,
                "dev.forecaster.model.DjlRuntime")
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    boolean exited = probe.waitFor(3, TimeUnit.MINUTES);
    if (!exited) {
      probe.destroyForcibly();
    }
    String out = Files.readString(log);
    assertThat(exited).as(out).isTrue();
    assertThat(probe.exitValue()).as(out).isZero();
    assertThat(out)
        .contains("PyTorch " + pom.get("pytorch.version"))
        .contains("offline=true")
        .contains("sum to 4");
  }

  // ---------------------------------------------------------------------------------- the job

  @Test
  void jobManagersRunTheJobClassWithKnownSettingsThatMatchTheBrokerAndTheTopics() throws Exception {
    Map<String, Topic> topics = topicsCreatedByKafkaInit();
    for (String name : List.of("jobmanager", "jobmanager-gpu")) {
      Class<?> job = Class.forName(jobClassOf(name));
      Method main = job.getMethod("main", String[].class);
      assertThat(Modifier.isStatic(main.getModifiers())).isTrue();

      JobConfig config = jobConfigOf(name);
      assertThat(config.bootstrapServers()).isEqualTo(kafkaAddress());
      assertThat(topics)
          .containsKeys(
              config.readingsTopic(),
              config.modelsTopic(),
              config.forecastsTopic(),
              config.evaluationsTopic(),
              config.deadLettersTopic());
      assertThat(topics.get(config.readingsTopic()).partitions())
          .as("one readings partition per subtask")
          .isEqualTo(config.parallelism());
      assertThat(config.checkpointDir())
          .as("checkpoints on the volume every Flink container mounts")
          .startsWith("file://" + mountPoint(name, "flink-data") + "/");
      assertThat(config.device())
          .isEqualTo(
              profiles(service(name)).contains("gpu")
                  ? JobOptions.Device.GPU
                  : JobOptions.Device.CPU);
    }
    assertThat(jobArguments("jobmanager"))
        .as("the GPU job differs in its device only")
        .isEqualTo(
            jobArguments("jobmanager-gpu").stream()
                .map(a -> a.equals("device=gpu") ? "device=cpu" : a)
                .toList());
  }

  @Test
  void kafkaInitCreatesTheJobsTopicsAndTheCompactedModelsTopic() {
    Map<String, Topic> topics = topicsCreatedByKafkaInit();
    JobConfig defaults = JobConfig.defaultsOnly();
    assertThat(topics.keySet())
        .containsExactlyInAnyOrder(
            defaults.readingsTopic(),
            defaults.modelsTopic(),
            defaults.forecastsTopic(),
            defaults.evaluationsTopic(),
            defaults.deadLettersTopic());
    Topic models = topics.get(defaults.modelsTopic());
    assertThat(models.partitions()).isEqualTo(1);
    assertThat(models.configs())
        .containsEntry("cleanup.policy", "compact")
        .containsEntry("max.message.bytes", Integer.toString(Topics.MAX_MODEL_BYTES));
    int parallelism = jobConfigOf("jobmanager").parallelism();
    topics.values().stream()
        .filter(t -> t != models)
        .forEach(t -> assertThat(t.partitions()).as(t.name()).isEqualTo(parallelism));
  }

  // ------------------------------------------------------------------------------- trainers,
  // replay

  @Test
  void trainersParseAsForecastTrainerOnTheJobsTopicsWithMetricsForPrometheus() {
    JobConfig job = jobConfigOf("jobmanager");
    Set<String> presets = new HashSet<>();
    for (String name : trainerServices()) {
      Map<String, Object> svc = service(name);
      ParseResult trainer = forecastSubcommand(command(svc), "trainer");
      assertThat(trainer.matchedOptionValue("--bootstrap-servers", "")).isEqualTo(kafkaAddress());
      assertThat(trainer.matchedOptionValue("--readings-topic", "")).isEqualTo(job.readingsTopic());
      assertThat(trainer.matchedOptionValue("--models-topic", "")).isEqualTo(job.modelsTopic());
      assertThat(trainer.matchedOptionValue("--evaluations-topic", ""))
          .isEqualTo(job.evaluationsTopic());
      assertThat(trainer.hasMatchedOption("--publish-first"))
          .as("a fresh stack needs a first model")
          .isTrue();
      assertThatCode(() -> RetrainSchedule.parseDuration(trainer.matchedOptionValue("--every", "")))
          .doesNotThrowAnyException();
      String preset = trainer.matchedOptionValue("--preset", "");
      assertThatCode(() -> TrainingPreset.named(preset)).doesNotThrowAnyException();
      assertThat(presets.add(preset)).as("one trainer per model").isTrue();

      Object stateDir = trainer.matchedOption("--state-dir").getValue();
      assertThat(stateDir.toString())
          .as("decisions and model copies on the models volume")
          .startsWith(mountPoint(name, "models") + "/");
      assertThat(trainer.matchedOptionValue("--metrics-host", ""))
          .as("reachable from other containers")
          .isEqualTo("0.0.0.0");
      int port = trainer.matchedOptionValue("--metrics-port", 0);
      assertThat(healthcheck(svc)).contains("http://localhost:" + port + "/metrics");
      assertThat(list(svc.get("expose")))
          .map(DeployComposeTest::str)
          .contains(Integer.toString(port));
    }
    assertThat(presets)
        .as("a trainer for every dataset the replayer sends")
        .isEqualTo(replayedPresets());
  }

  @Test
  void replayerSendsEveryShippedDatasetToTheReadingsTopicOnce() {
    List<String> script = scriptLines(service("replayer"));
    List<String> replays = script.stream().filter(l -> l.startsWith("forecast ")).toList();
    assertThat(replays).isNotEmpty();
    for (String line : replays) {
      ParseResult replay =
          forecastSubcommand(shellWords(line.substring("forecast ".length())), "replay");
      assertThat(replay.matchedOptionValue("--bootstrap-servers", "")).isEqualTo(kafkaAddress());
      assertThat(replay.matchedOptionValue("--topic", ""))
          .isEqualTo(jobConfigOf("jobmanager").readingsTopic());
    }
    assertThat(replayedPresets()).containsExactlyInAnyOrder("weather", "stock");
    assertThat(String.join("\n", script))
        .as("a marker on a volume keeps a second `up` from replaying again")
        .contains("marker=" + mountPoint("replayer", "replayer-state") + "/");
    assertThat(service("replayer").get("restart")).isEqualTo("no");
  }

  // --------------------------------------------------------------------------------- Flink
  // settings

  @Test
  void flinkSettingsAreCurrentFlinkOptionsWithValuesFlinkAccepts() throws Exception {
    FlinkOptions flink = new FlinkOptions();
    Map<String, String> image = imageSettings();
    for (String name : flinkServices()) {
      Map<String, String> settings = new LinkedHashMap<>(image);
      settings.putAll(flinkProperties(name));
      Configuration conf = Configuration.fromMap(settings);
      for (var s : settings.entrySet()) {
        String key = s.getKey();
        Matcher reporter = Pattern.compile("metrics\\.reporter\\.[\\w-]+\\.(.+)").matcher(key);
        if (reporter.matches()) {
          assertThat(reporter.group(1)).as(name + ": " + key).isIn("factory.class", "port");
          continue;
        }
        assertThat(flink.deprecated)
            .as(name + ": " + key + " is deprecated in Flink " + pom.get("flink.version"))
            .doesNotContainKey(key);
        assertThat(flink.byKey).as(name + ": " + key + " is a Flink option").containsKey(key);
        assertThatCode(() -> conf.get(flink.byKey.get(key)))
            .as(name + ": " + key + "=" + s.getValue())
            .doesNotThrowAnyException();
      }
      assertThat(settings.get("jobmanager.rpc.address")).isEqualTo("jobmanager");
    }
  }

  @Test
  void imageLoadsDjlParentFirstAndGivesBothJvmsTheAvroAndDjlFlags() throws Exception {
    Map<String, String> image = imageSettings();
    Configuration conf = Configuration.fromMap(image);
    assertThat(conf.get(CoreOptions.ALWAYS_PARENT_FIRST_LOADER_PATTERNS_ADDITIONAL))
        .contains("ai.djl.");
    for (String jvm : List.of("env.java.opts.jobmanager", "env.java.opts.taskmanager")) {
      assertThat(image.get(jvm))
          .as(jvm)
          .contains(
              "-D" + TrustedPackages.PROPERTY + "=" + TrustedPackages.CONTRACTS_PACKAGE,
              "-Dai.djl.offline=true",
              "-Dai.djl.pytorch.num_threads=1",
              "-Dai.djl.pytorch.num_interop_threads=1");
    }
    for (String name : flinkServices()) {
      assertThat(flinkProperties(name))
          .as(name + ": env.java.opts.all would replace the Java 17 flags of Flink's config")
          .doesNotContainKey(CoreOptions.FLINK_JVM_OPTIONS.key());
    }
    assertThat(image).doesNotContainKey(CoreOptions.FLINK_JVM_OPTIONS.key());
    assertThat(envs(FLINK_DOCKERFILE, "base"))
        .containsEntry("OPT_OUT_TRACKING", "true")
        .containsAllEntriesOf(nativeSettings())
        // Flink's entrypoint preloads jemalloc, which the glibc variables do not reach
        .containsEntry("MALLOC_CONF", "dirty_decay_ms:-1,muzzy_decay_ms:-1")
        .containsKey("DJL_CACHE_DIR");
    assertThat(envs(CLI_DOCKERFILE, ""))
        .containsEntry("OPT_OUT_TRACKING", "true")
        .containsAllEntriesOf(nativeSettings())
        .containsKey("DJL_CACHE_DIR");
  }

  @Test
  void everyLauncherCapsOneDnnAndKeepsTensorsOnGlibcsHeap() throws IOException {
    // the images are checked above; the CLI and the cluster bench start their JVMs themselves
    Map<String, String> settings = nativeSettings();
    for (String script : List.of("forecast", "bench/flink-cluster-lib.sh")) {
      List<String> lines = Files.readAllLines(ROOT.resolve(script));
      settings.forEach(
          (name, value) ->
              assertThat(lines)
                  .as(script + ": " + name)
                  .anyMatch(
                      l -> l.startsWith("export " + name + "=\"${" + name + ":-" + value + "}\"")));
    }
  }

  /**
   * What the JVMs that run PyTorch need in their environment: oneDNN capped where its LSTM is
   * right, glibc keeping tensors on its heap.
   */
  private static Map<String, String> nativeSettings() {
    return Map.of(
        LstmKernelCheck.ISA_VARIABLE,
        LstmKernelCheck.SAFE_ISA,
        "MALLOC_MMAP_THRESHOLD_",
        "67108864",
        "MALLOC_TRIM_THRESHOLD_",
        "268435456");
  }

  @Test
  void taskManagersReportToPrometheusAndOfferASlotPerSubtask() {
    int parallelism = jobConfigOf("jobmanager").parallelism();
    for (String name : taskManagers()) {
      Map<String, String> props = flinkProperties(name);
      assertThat(props).containsEntry("metrics.reporter.prom.factory.class", PROMETHEUS_FACTORY);
      String port = props.get("metrics.reporter.prom.port");
      assertThat(healthcheck(service(name))).contains("http://localhost:" + port + "/metrics");
      assertThat(list(service(name).get("expose"))).map(DeployComposeTest::str).contains(port);
      assertThat(Integer.parseInt(props.get("taskmanager.numberOfTaskSlots")))
          .as(name + " alone runs the job")
          .isGreaterThanOrEqualTo(parallelism);
    }
  }

  // ------------------------------------------------------------------------------------------ GPU

  @Test
  void profilesPickOneFlinkClusterAndCpuIsTheDefault() throws IOException {
    assertThat(Files.readAllLines(ROOT.resolve(".env"))).contains("COMPOSE_PROFILES=cpu");
    for (String profile : PROFILES) {
      List<String> members =
          services.keySet().stream().filter(n -> profiles(service(n)).contains(profile)).toList();
      assertThat(members.stream().filter(n -> command(service(n)).contains("standalone-job")))
          .as(profile)
          .hasSize(1);
      assertThat(members.stream().filter(n -> command(service(n)).equals(List.of("taskmanager"))))
          .as(profile)
          .isNotEmpty();
    }
    for (var e : services.entrySet()) {
      assertThat(PROFILES).as(e.getKey() + " profiles").containsAll(profiles(e.getValue()));
      for (String dependency : dependencies(e.getValue())) {
        assertThat(services).as(e.getKey() + " depends on").containsKey(dependency);
        assertThat(profiles(e.getValue()))
            .as(e.getKey() + " depends on " + dependency + " in its own profile")
            .containsAll(profiles(service(dependency)));
      }
    }
    // the GPU job manager stands in for the CPU one under its name
    assertThat(
            list(map(map(service("jobmanager-gpu").get("networks")).get("default")).get("aliases")))
        .contains("jobmanager");
  }

  @Test
  void gpuTaskManagersReserveAnNvidiaGpuAndLoadTheCudaLibtorchOfThePinnedPyTorch()
      throws IOException {
    Map<String, Object> tm = service("taskmanager-gpu");
    assertThat(profiles(tm)).containsExactly("gpu");
    assertThat(map(tm.get("build")).get("target")).isEqualTo("gpu");
    List<Object> devices =
        list(map(map(map(tm.get("deploy")).get("resources")).get("reservations")).get("devices"));
    assertThat(devices)
        .singleElement()
        .satisfies(
            d -> {
              assertThat(map(d)).containsEntry("driver", "nvidia");
              assertThat(list(map(d).get("capabilities"))).contains("gpu");
              assertThat(list(map(d).get("device_ids"))).as("one GPU per task manager").hasSize(1);
            });

    Map<String, String> env = envs(FLINK_DOCKERFILE, "gpu");
    String flavor = env.get("PYTORCH_FLAVOR");
    assertThat(flavor).isEqualTo("cu128");
    assertThat(env).containsEntry("PYTORCH_VERSION", pom.get("pytorch.version"));
    String url = argDefaults(FLINK_DOCKERFILE).get("LIBTORCH_URL");
    assertThat(url)
        .startsWith("https://download.pytorch.org/libtorch/" + flavor + "/")
        .endsWith("-" + pom.get("pytorch.version") + "%2B" + flavor + ".zip");
    assertThat(copies(FLINK_DOCKERFILE))
        .as("the libtorch stage's libraries land in PYTORCH_LIBRARY_PATH")
        .anyMatch(
            c ->
                "libtorch-cu128".equals(c.fromStage())
                    && trimSlash(c.destination()).equals(env.get("PYTORCH_LIBRARY_PATH")));
    String jni = "jnilib/linux-x86_64/" + flavor + "/libdjl_torch.so";
    assertThat(runs(FLINK_DOCKERFILE, "libtorch-cu128")).anyMatch(r -> r.contains(jni));
    assertThat(Thread.currentThread().getContextClassLoader().getResource(jni))
        .as("the pinned pytorch-jni carries the JNI glue for " + flavor)
        .isNotNull();

    String guide = Files.readString(ROOT.resolve("docs/DEPLOY.md"));
    assertThat(guide)
        .as("docs/DEPLOY.md tells the recipe the Dockerfile runs")
        .contains(
            url,
            jni,
            "PYTORCH_LIBRARY_PATH=" + env.get("PYTORCH_LIBRARY_PATH"),
            "PYTORCH_VERSION=" + pom.get("pytorch.version"),
            "PYTORCH_FLAVOR=" + flavor);
  }

  // ----------------------------------------------------------------------------- health and state

  @Test
  void longRunningServicesHaveHealthchecksAndTheirStateLivesInNamedVolumes() throws IOException {
    for (var e : services.entrySet()) {
      Map<String, Object> svc = e.getValue();
      Object restart = svc.get("restart");
      assertThat(restart).as(e.getKey() + " restart").isIn("no", "unless-stopped");
      if ("unless-stopped".equals(restart)) {
        assertThat(healthcheck(svc)).as(e.getKey() + " healthcheck").isNotBlank();
      }
      for (Object v : list(svc.get("volumes"))) {
        String volume = str(v).split(":")[0];
        assertThat(volumes).as(e.getKey() + " mounts a declared volume").containsKey(volume);
      }
    }
    for (String name : flinkServices()) {
      assertThat(mountPoint(name, "flink-data")).isEqualTo("/flink-data");
      assertThat(
              flinkProperties(name)
                  .getOrDefault("execution.checkpointing.savepoint-dir", "file:///flink-data/"))
          .startsWith("file:///flink-data/");
    }
    assertThat(runs(FLINK_DOCKERFILE, "base"))
        .as("the image owns the volume's folders")
        .anyMatch(
            r -> r.contains("/flink-data/checkpoints") && r.contains("/flink-data/savepoints"));
  }

  // ================================================================================== helpers

  record Topic(String name, int partitions, Map<String, String> configs) {}

  record Copy(String fromStage, List<String> sources, String destination) {}

  record Instruction(String stage, String keyword, String args) {}

  /**
   * Every key of Flink's options in flink-core's configuration package, and the deprecated keys
   * apart.
   */
  static final class FlinkOptions {
    final Map<String, ConfigOption<?>> byKey = new HashMap<>();
    final Map<String, String> deprecated = new HashMap<>();

    FlinkOptions() throws IOException, URISyntaxException {
      Path jar =
          Path.of(CoreOptions.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      try (ZipFile zip = new ZipFile(jar.toFile())) {
        for (String entry : zip.stream().map(ZipEntry::getName).toList()) {
          if (!entry.matches("org/apache/flink/configuration/[^/$]+\\.class")) {
            continue;
          }
          try {
            Class<?> type = Class.forName(entry.replace('/', '.').replaceAll("\\.class$", ""));
            for (Field f : type.getFields()) {
              if (Modifier.isStatic(f.getModifiers())
                  && ConfigOption.class.isAssignableFrom(f.getType())) {
                ConfigOption<?> option = (ConfigOption<?>) f.get(null);
                byKey.put(option.key(), option);
                for (FallbackKey fallback : option.fallbackKeys()) {
                  deprecated.put(fallback.getKey(), option.key());
                }
              }
            }
          } catch (ReflectiveOperationException | LinkageError e) {
            // a class that does not load here holds no option we set
          }
        }
      }
      deprecated.keySet().removeAll(byKey.keySet());
      assertThat(byKey).containsKey("taskmanager.numberOfTaskSlots");
    }
  }

  private static Path packagedFlinkJob() {
    Path target = ROOT.resolve("flink-job/target");
    Assumptions.assumeTrue(
        Files.exists(target.resolve("flink-job-" + pom.get("project.version") + ".jar")),
        "flink-job is not packaged in this build (mvn test): mvn package or verify builds what the"
            + " images copy");
    return target;
  }

  private static List<String> jobArguments(String jobManager) {
    List<String> words = command(service(jobManager));
    assertThat(words).as(jobManager).startsWith("standalone-job", "--job-classname");
    return words.subList(3, words.size());
  }

  private static String jobClassOf(String jobManager) {
    List<String> words = command(service(jobManager));
    assertThat(words).as(jobManager).startsWith("standalone-job", "--job-classname");
    return words.get(2);
  }

  private static JobConfig jobConfigOf(String jobManager) {
    Map<String, String> settings = new LinkedHashMap<>();
    for (String arg : jobArguments(jobManager)) {
      assertThat(arg).as(jobManager + ": a job argument is key=value").contains("=");
      String[] kv = arg.split("=", 2);
      settings.put(kv[0], kv[1]);
    }
    return JobConfig.of(settings); // an unknown key throws
  }

  /** What kafka-init's `forecast topics` creates: every topic as Topics defines it. */
  private static Map<String, Topic> topicsCreatedByKafkaInit() {
    ParseResult init = forecastSubcommand(command(service("kafka-init")), "topics");
    assertThat(init.matchedOptionValue("--bootstrap-servers", "")).isEqualTo(kafkaAddress());
    int partitions = init.matchedOptionValue("--partitions", Topics.DEFAULT_PARTITIONS);
    Map<String, String> renamed = init.matchedOptionValue("--name", Map.<String, String>of());
    assertThat(renamed).as("the job's default topic names").isEmpty();
    Map<String, Topic> topics = new LinkedHashMap<>();
    for (Topics t : Topics.values()) {
      topics.put(
          t.defaultName(), new Topic(t.defaultName(), t.partitions(partitions), t.configs()));
    }
    return topics;
  }

  /** The address the broker advertises inside the compose network: host kafka. */
  private static String kafkaAddress() {
    String advertised =
        str(map(service("kafka").get("environment")).get("KAFKA_ADVERTISED_LISTENERS"));
    return Stream.of(advertised.split(","))
        .map(l -> l.replaceFirst("^\\w+://", ""))
        .filter(a -> a.startsWith("kafka:"))
        .findFirst()
        .orElseThrow();
  }

  private static ParseResult forecastSubcommand(List<String> args, String subcommand) {
    CommandLine cli = ForecastCommand.commandLine();
    ParseResult result =
        cli.parseArgs(args.toArray(String[]::new)); // unknown flags and bad values throw
    assertThat(result.subcommand()).as(String.join(" ", args)).isNotNull();
    assertThat(result.subcommand().commandSpec().name()).isEqualTo(subcommand);
    return result.subcommand();
  }

  private static Set<String> replayedPresets() {
    return scriptLines(service("replayer")).stream()
        .filter(l -> l.startsWith("forecast "))
        .map(l -> shellWords(l))
        .map(w -> w.get(w.indexOf("--preset") + 1))
        .collect(Collectors.toSet());
  }

  private static List<String> trainerServices() {
    List<String> names =
        services.keySet().stream()
            .filter(n -> command(service(n)).stream().findFirst().orElse("").equals("trainer"))
            .toList();
    assertThat(names).isNotEmpty();
    return names;
  }

  private static List<String> flinkServices() {
    return services.keySet().stream()
        .filter(n -> str(service(n).get("image")).startsWith("forecaster-flink"))
        .toList();
  }

  private static List<String> taskManagers() {
    return flinkServices().stream()
        .filter(n -> command(service(n)).equals(List.of("taskmanager")))
        .toList();
  }

  private static Map<String, String> flinkProperties(String name) {
    Map<String, String> props = new LinkedHashMap<>();
    String text = str(map(service(name).get("environment")).get("FLINK_PROPERTIES"));
    for (String line : text.split("\n")) {
      if (!line.isBlank()) {
        String[] kv = line.split(":", 2);
        props.put(kv[0].strip(), kv[1].strip());
      }
    }
    return props;
  }

  /** The settings the Flink image writes into its config.yaml when it is built. */
  private static Map<String, String> imageSettings() throws IOException {
    Map<String, String> args = argDefaults(FLINK_DOCKERFILE);
    Map<String, String> settings = new LinkedHashMap<>();
    List<String> run =
        runs(FLINK_DOCKERFILE, "base").stream()
            .filter(r -> r.contains("config-parser-utils.sh"))
            .toList();
    assertThat(run).hasSize(1);
    for (String word : shellWords(run.get(0))) {
      if (word.startsWith("-D")) {
        String[] kv = expand(word.substring(2), args).split("=", 2);
        settings.put(kv[0], kv[1]);
      }
    }
    return settings;
  }

  private static String mountPoint(String service, String volume) {
    return list(service(service).get("volumes")).stream()
        .map(DeployComposeTest::str)
        .filter(v -> v.startsWith(volume + ":"))
        .map(v -> v.split(":")[1])
        .findFirst()
        .orElseThrow(() -> new AssertionError(service + " does not mount " + volume));
  }

  /**
   * What a module's pom.xml makes under target/: its jar and every configured output file or
   * folder.
   */
  private static Set<String> buildOutputs(String module) throws Exception {
    Document doc =
        DocumentBuilderFactory.newInstance()
            .newDocumentBuilder()
            .parse(ROOT.resolve(module).resolve("pom.xml").toFile());
    Set<String> outputs = new HashSet<>();
    NodeList finalName = doc.getElementsByTagName("finalName");
    outputs.add(
        (finalName.getLength() > 0
                ? finalName.item(0).getTextContent().strip()
                : module + "-" + pom.get("project.version"))
            + ".jar");
    for (String tag : List.of("outputFile", "outputDirectory")) {
      NodeList nodes = doc.getElementsByTagName(tag);
      for (int i = 0; i < nodes.getLength(); i++) {
        String value = nodes.item(i).getTextContent().strip();
        if (value.startsWith("${project.build.directory}/")) {
          outputs.add(value.substring("${project.build.directory}/".length()));
        }
      }
    }
    return outputs;
  }

  // ----------------------------------------------------------------------------- Dockerfiles

  private static List<Instruction> instructions(Path dockerfile) throws IOException {
    List<Instruction> out = new ArrayList<>();
    String stage = "";
    StringBuilder current = new StringBuilder();
    for (String raw : Files.readAllLines(dockerfile)) {
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      if (line.endsWith("\\")) {
        current.append(line, 0, line.length() - 1).append(' ');
        continue;
      }
      String text = current.append(line).toString().strip();
      current.setLength(0);
      String[] parts = text.split("\\s+", 2);
      String keyword = parts[0].toUpperCase(Locale.ROOT);
      String args = parts.length > 1 ? parts[1] : "";
      if (keyword.equals("FROM")) {
        Matcher as = Pattern.compile("(?i)\\sAS\\s+(\\S+)$").matcher(args);
        stage = as.find() ? as.group(1) : "";
      }
      out.add(new Instruction(stage, keyword, args));
    }
    return out;
  }

  private static Set<String> stages(Path dockerfile) throws IOException {
    return instructions(dockerfile).stream()
        .filter(i -> i.keyword().equals("FROM"))
        .map(Instruction::stage)
        .collect(Collectors.toSet());
  }

  /** ARG defaults, the global ones (before the first FROM) included. */
  private static Map<String, String> argDefaults(Path dockerfile) throws IOException {
    Map<String, String> args = new HashMap<>();
    for (Instruction i : instructions(dockerfile)) {
      if (i.keyword().equals("ARG") && i.args().contains("=")) {
        String[] kv = i.args().split("=", 2);
        args.put(kv[0].strip(), String.join(" ", shellWords(kv[1])));
      }
    }
    return args;
  }

  private static Map<String, String> envs(Path dockerfile, String stage) throws IOException {
    Map<String, String> env = new HashMap<>();
    for (Instruction i : instructions(dockerfile)) {
      if (i.keyword().equals("ENV") && i.stage().equals(stage)) {
        for (String word : shellWords(i.args())) {
          String[] kv = word.split("=", 2);
          env.put(kv[0], kv[1]);
        }
      }
    }
    return env;
  }

  private static List<String> runs(Path dockerfile, String stage) throws IOException {
    return instructions(dockerfile).stream()
        .filter(i -> i.keyword().equals("RUN") && i.stage().equals(stage))
        .map(Instruction::args)
        .toList();
  }

  private static List<Copy> copies(Path dockerfile) throws IOException {
    List<Copy> copies = new ArrayList<>();
    for (Instruction i : instructions(dockerfile)) {
      if (!i.keyword().equals("COPY")) {
        continue;
      }
      String from = null;
      List<String> paths = new ArrayList<>();
      for (String word : shellWords(i.args())) {
        if (word.startsWith("--from=")) {
          from = word.substring("--from=".length());
        } else if (!word.startsWith("--")) {
          paths.add(word);
        }
      }
      copies.add(new Copy(from, paths.subList(0, paths.size() - 1), paths.get(paths.size() - 1)));
    }
    return copies;
  }

  private static String expand(String text, Map<String, String> variables) {
    Matcher m = Pattern.compile("\\$\\{(\\w+)}").matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      assertThat(variables).as("defined in the Dockerfile").containsKey(m.group(1));
      m.appendReplacement(out, Matcher.quoteReplacement(variables.get(m.group(1))));
    }
    return m.appendTail(out).toString();
  }

  // ------------------------------------------------------------------------ compose structure

  private static Map<String, Object> service(String name) {
    assertThat(services).as("services").containsKey(name);
    return services.get(name);
  }

  private static List<String> profiles(Map<String, Object> svc) {
    return list(svc.get("profiles")).stream().map(DeployComposeTest::str).toList();
  }

  private static Set<String> dependencies(Map<String, Object> svc) {
    Object deps = svc.get("depends_on");
    if (deps instanceof Map<?, ?> m) {
      return m.keySet().stream().map(Object::toString).collect(Collectors.toSet());
    }
    return list(deps).stream().map(DeployComposeTest::str).collect(Collectors.toSet());
  }

  /**
   * The command as the container gets it: a list as is, a string split into words as Compose does.
   */
  private static List<String> command(Map<String, Object> svc) {
    Object command = svc.get("command");
    if (command instanceof String s) {
      return shellWords(s);
    }
    return list(command).stream().map(DeployComposeTest::str).toList();
  }

  /** The lines of a service's `bash -ec SCRIPT`. */
  private static List<String> scriptLines(Map<String, Object> svc) {
    assertThat(list(svc.get("entrypoint")))
        .map(DeployComposeTest::str)
        .containsExactly("/bin/bash", "-ec");
    return Stream.of(command(svc).get(0).split("\n"))
        .map(String::strip)
        .filter(l -> !l.isEmpty())
        .toList();
  }

  private static String healthcheck(Map<String, Object> svc) {
    return list(map(svc.get("healthcheck")).get("test")).stream()
        .map(DeployComposeTest::str)
        .collect(Collectors.joining(" "));
  }

  /**
   * Compose's interpolation: $$ is a dollar, ${NAME:-default} its default; a variable without one
   * is noted.
   */
  private static Object interpolate(Object node) {
    if (node instanceof Map<?, ?> m) {
      Map<String, Object> out = new LinkedHashMap<>();
      m.forEach((k, v) -> out.put(k.toString(), interpolate(v)));
      return out;
    }
    if (node instanceof List<?> l) {
      return l.stream().map(DeployComposeTest::interpolate).toList();
    }
    if (node instanceof String s) {
      Matcher m = Pattern.compile("\\$\\$|\\$\\{(\\w+)(?::?-([^}]*))?}").matcher(s);
      StringBuilder out = new StringBuilder();
      while (m.find()) {
        String value;
        if (m.group().equals("$$")) {
          value = "$";
        } else if (m.group(2) != null) {
          value = m.group(2);
        } else {
          unsetVariables.add(m.group(1));
          value = "";
        }
        m.appendReplacement(out, Matcher.quoteReplacement(value));
      }
      return m.appendTail(out).toString();
    }
    return node;
  }

  /** Words as a POSIX shell splits them (quotes grouped and removed; no expansion). */
  static List<String> shellWords(String text) {
    List<String> words = new ArrayList<>();
    StringBuilder word = null;
    char quote = 0;
    for (char c : text.toCharArray()) {
      if (quote != 0) {
        if (c == quote) {
          quote = 0;
        } else {
          word.append(c);
        }
      } else if (c == '"' || c == '\'') {
        word = word == null ? new StringBuilder() : word;
        quote = c;
      } else if (Character.isWhitespace(c)) {
        if (word != null) {
          words.add(word.toString());
          word = null;
        }
      } else {
        word = word == null ? new StringBuilder() : word;
        word.append(c);
      }
    }
    if (word != null) {
      words.add(word.toString());
    }
    return words;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object node) {
    return node == null ? Map.of() : (Map<String, Object>) node;
  }

  @SuppressWarnings("unchecked")
  private static List<Object> list(Object node) {
    return node == null ? List.of() : (List<Object>) node;
  }

  private static String str(Object node) {
    return node == null ? "" : node.toString();
  }

  private static String trimSlash(String path) {
    return path.replaceFirst("^\\./", "").replaceFirst("/$", "");
  }

  private static Map<String, String> pomProperties(Path file) throws Exception {
    Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file.toFile());
    Map<String, String> props = new HashMap<>();
    Element project = doc.getDocumentElement();
    for (Node n = project.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n.getNodeName().equals("version")) {
        props.put("project.version", n.getTextContent().strip());
      }
      if (n.getNodeName().equals("properties")) {
        for (Node p = n.getFirstChild(); p != null; p = p.getNextSibling()) {
          if (p instanceof Element e) {
            props.put(e.getTagName(), e.getTextContent().strip());
          }
        }
      }
    }
    // properties built from others, e.g. pytorch-jni.version = ${pytorch.version}-${djl.version}
    Pattern reference = Pattern.compile("\\$\\{([\\w.-]+)}");
    props.replaceAll(
        (k, v) ->
            reference
                .matcher(v)
                .replaceAll(
                    m -> Matcher.quoteReplacement(props.getOrDefault(m.group(1), m.group()))));
    return props;
  }

  private static Path projectRoot() {
    String data = System.getProperty("forecaster.data.dir");
    Path root = data != null ? Path.of(data).getParent() : Path.of("..");
    return root.toAbsolutePath().normalize();
  }
}
