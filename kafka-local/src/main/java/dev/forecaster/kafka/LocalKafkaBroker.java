package dev.forecaster.kafka;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.properties.MetaPropertiesEnsemble;
import org.apache.kafka.metadata.storage.Formatter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Apache Kafka broker started in this JVM: KRaft mode, one process that is both
 * broker and controller (node id 1), plaintext, bound to 127.0.0.1 only. For the tests and the
 * local runner.
 *
 * <pre>{@code
 * try (LocalKafkaBroker kafka = LocalKafkaBroker.start()) {
 *     kafka.createTopic("readings", 3, Map.of());
 *     producerProps.put("bootstrap.servers", kafka.bootstrapServers());
 *     ...
 * }
 * }</pre>
 *
 * <p>Settings made for one node: replication factor 1 and min ISR 1 for the internal topics, no
 * initial rebalance delay, one partition by default, no automatic topic creation, transactions up
 * to 15 minutes ({@code transaction.max.timeout.ms=900000}; Flink's exactly-once sink stays below
 * it) and share groups off ({@code share.version=0} at format time). {@link Builder#brokerProperty}
 * overrides any broker property.
 *
 * <p>{@link #close()} shuts the broker down, waits until it has stopped (no broker thread and no
 * bound port remain) and deletes the data folder when the broker created it.
 */
public final class LocalKafkaBroker implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(LocalKafkaBroker.class);
  private static final String LOOPBACK = "127.0.0.1";
  private static final int NODE_ID = 1;
  private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);

  private final KafkaRaftServer server;
  private final Path dataDir;
  private final boolean ownsDataDir;
  private final int port;
  private final int controllerPort;
  private Admin admin;
  private boolean closed;

  private LocalKafkaBroker(
      KafkaRaftServer server, Path dataDir, boolean ownsDataDir, int port, int controllerPort) {
    this.server = server;
    this.dataDir = dataDir;
    this.ownsDataDir = ownsDataDir;
    this.port = port;
    this.controllerPort = controllerPort;
  }

  /** Starts a broker on a free port with its data in a new temporary folder. */
  public static LocalKafkaBroker start() {
    return builder().start();
  }

  /**
   * Starts a broker on {@code port} (0: a free one) with its data in {@code dataDir}, a folder for
   * the broker alone that is formatted when new and reused as it is when already formatted; null: a
   * new temporary folder, deleted by {@link #close()}.
   */
  public static LocalKafkaBroker start(Path dataDir, int port) {
    return builder().dataDir(dataDir).port(port).start();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** What {@link #builder()} starts. */
  public static final class Builder {
    private Path dataDir;
    private int port;
    private final Map<String, String> brokerProperties = new LinkedHashMap<>();

    private Builder() {}

    /** The folder for the broker's data; null (default): a new temporary folder. */
    public Builder dataDir(Path dataDir) {
      this.dataDir = dataDir;
      return this;
    }

    /** The client (PLAINTEXT) port; 0 (default): a free port. */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be in 0..65535: " + port);
      }
      this.port = port;
      return this;
    }

    /** A broker property that replaces the default one of the same name. */
    public Builder brokerProperty(String name, String value) {
      brokerProperties.put(
          Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, name));
      return this;
    }

    /** Broker properties that replace the default ones of the same names. */
    public Builder brokerProperties(Map<String, String> properties) {
      properties.forEach(this::brokerProperty);
      return this;
    }

    /** Formats the storage when needed and starts the broker; returns once it serves clients. */
    public LocalKafkaBroker start() {
      return LocalKafkaBroker.doStart(this);
    }
  }

  private static LocalKafkaBroker doStart(Builder options) {
    long startedAt = System.nanoTime();
    boolean ownsDataDir = options.dataDir == null;
    Path dataDir;
    try {
      dataDir =
          ownsDataDir
              ? Files.createTempDirectory("kafka-local-")
              : Files.createDirectories(options.dataDir.toAbsolutePath());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the Kafka data folder", e);
    }
    KafkaRaftServer server = null;
    try {
      int port = options.port == 0 ? freePort() : requireFree(options.port);
      int controllerPort = freePort(port);
      KafkaConfig config =
          new KafkaConfig(
              brokerConfig(dataDir, port, controllerPort, options.brokerProperties), false);
      format(config);
      server = new KafkaRaftServer(config, Time.SYSTEM);
      server.startup();
      LOG.info(
          "Kafka broker started on {}:{} (controller on port {}, data in {}) in {} ms",
          LOOPBACK,
          port,
          controllerPort,
          dataDir,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAt));
      return new LocalKafkaBroker(server, dataDir, ownsDataDir, port, controllerPort);
    } catch (RuntimeException | Error e) {
      if (server != null) {
        // the broker half cleans itself up when its startup fails, the controller half does not
        stopQuietly(server);
      }
      if (ownsDataDir) {
        deleteQuietly(dataDir);
      }
      throw e;
    }
  }

  private static Map<String, String> brokerConfig(
      Path dataDir, int port, int controllerPort, Map<String, String> overrides) {
    Map<String, String> props = new LinkedHashMap<>();
    props.put("process.roles", "broker,controller");
    props.put("node.id", String.valueOf(NODE_ID));
    props.put(
        "listeners",
        "PLAINTEXT://"
            + LOOPBACK
            + ":"
            + port
            + ",CONTROLLER://"
            + LOOPBACK
            + ":"
            + controllerPort);
    props.put("advertised.listeners", "PLAINTEXT://" + LOOPBACK + ":" + port);
    props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    props.put("inter.broker.listener.name", "PLAINTEXT");
    props.put("controller.listener.names", "CONTROLLER");
    // a static quorum of this node alone
    props.put("controller.quorum.voters", NODE_ID + "@" + LOOPBACK + ":" + controllerPort);
    props.put("log.dirs", dataDir.toString());

    props.put("num.partitions", "1");
    props.put("default.replication.factor", "1");
    props.put("min.insync.replicas", "1");
    props.put("auto.create.topics.enable", "false");
    props.put("group.initial.rebalance.delay.ms", "0");
    props.put("offsets.topic.replication.factor", "1");
    props.put("offsets.topic.num.partitions", "5");
    props.put("transaction.state.log.replication.factor", "1");
    props.put("transaction.state.log.min.isr", "1");
    props.put("transaction.state.log.num.partitions", "5");
    props.put("transaction.max.timeout.ms", "900000");
    // share groups are off (share.version=0 at format time); should they be turned on, their
    // state topic must fit on one node
    props.put("share.coordinator.state.topic.replication.factor", "1");
    props.put("share.coordinator.state.topic.min.isr", "1");
    props.put("share.coordinator.state.topic.num.partitions", "1");

    props.putAll(overrides);
    return props;
  }

  /**
   * Formats the log folder for KRaft, as {@code kafka-storage.sh format --ignore-formatted} does.
   */
  private static void format(KafkaConfig config) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8)) {
      Formatter formatter =
          new Formatter()
              .setPrintStream(print)
              .setNodeId(config.nodeId())
              .setClusterId(clusterId(config))
              .setIgnoreFormatted(true)
              .setControllerListenerName(config.controllerListenerNames().get(0))
              .setMetadataLogDirectory(config.metadataLogDir())
              .setHasDynamicQuorum(false)
              .setFeatureLevel("share.version", (short) 0);
      config.logDirs().forEach(formatter::addDirectory);
      formatter.run();
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("cannot format the Kafka storage: " + e.getMessage(), e);
    }
    LOG.debug("Kafka storage: {}", out.toString(StandardCharsets.UTF_8).strip());
  }

  /**
   * The cluster id of a folder formatted before, or a new one. (The formatter compares the id it is
   * given with a formatted folder's even with {@code --ignore-formatted}.)
   */
  private static String clusterId(KafkaConfig config) throws IOException {
    return new MetaPropertiesEnsemble.Loader()
        .addLogDirs(config.logDirs())
        .load()
        .clusterId()
        .orElseGet(() -> Uuid.randomUuid().toString());
  }

  /** {@code 127.0.0.1:PORT}, for {@code bootstrap.servers}. */
  public String bootstrapServers() {
    return LOOPBACK + ":" + port;
  }

  /** The client (PLAINTEXT) port. */
  public int port() {
    return port;
  }

  /** The KRaft controller port (a second listener, for the broker itself). */
  public int controllerPort() {
    return controllerPort;
  }

  /** The folder that holds the broker's logs and metadata. */
  public Path dataDir() {
    return dataDir;
  }

  /**
   * Creates a topic with the broker's default configuration. See {@link #createTopic(String, int,
   * Map)}.
   */
  public void createTopic(String name, int partitions) {
    createTopic(name, partitions, Map.of());
  }

  /**
   * Creates a topic with replication factor 1 and returns once every partition has a leader. A
   * topic of that name that already exists is left as it is (its partitions and configuration are
   * not compared).
   */
  public void createTopic(String name, int partitions, Map<String, String> configs) {
    Objects.requireNonNull(name, "name");
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be at least 1: " + partitions);
    }
    Admin admin = admin();
    NewTopic topic =
        new NewTopic(name, partitions, (short) 1).configs(configs == null ? Map.of() : configs);
    try {
      admin.createTopics(List.of(topic)).all().get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      LOG.debug("created topic {} with {} partitions and {}", name, partitions, configs);
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw new IllegalStateException(
            "cannot create topic " + name + ": " + e.getCause(), e.getCause());
      }
      LOG.debug("topic {} exists already", name);
    } catch (TimeoutException e) {
      throw new IllegalStateException(
          "topic " + name + " was not created within " + ADMIN_TIMEOUT, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topic " + name, e);
    }
    awaitLeaders(admin, name);
  }

  /** Waits until the broker's metadata shows a leader for every partition of the topic. */
  private static void awaitLeaders(Admin admin, String name) {
    long deadline = System.nanoTime() + ADMIN_TIMEOUT.toNanos();
    while (true) {
      try {
        TopicDescription description =
            admin
                .describeTopics(Set.of(name))
                .allTopicNames()
                .get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .get(name);
        if (description.partitions().stream()
            .allMatch(p -> p.leader() != null && !p.leader().isEmpty())) {
          return;
        }
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
          throw new IllegalStateException(
              "cannot describe topic " + name + ": " + e.getCause(), e.getCause());
        }
      } catch (TimeoutException e) {
        throw new IllegalStateException(
            "cannot describe topic " + name + " within " + ADMIN_TIMEOUT, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for topic " + name, e);
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "topic " + name + " has partitions without a leader after " + ADMIN_TIMEOUT);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for topic " + name, e);
      }
    }
  }

  private synchronized Admin admin() {
    if (closed) {
      throw new IllegalStateException("the broker is closed");
    }
    if (admin == null) {
      admin =
          Admin.create(
              Map.of(
                  AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                  bootstrapServers(),
                  AdminClientConfig.CLIENT_ID_CONFIG,
                  "kafka-local-admin"));
    }
    return admin;
  }

  /**
   * Shuts the broker down and waits until it has stopped, then deletes the data folder when the
   * broker created it. Calling it again does nothing.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    long closingAt = System.nanoTime();
    if (admin != null) {
      admin.close(Duration.ofSeconds(5));
      admin = null;
    }
    stopQuietly(server);
    if (ownsDataDir) {
      deleteQuietly(dataDir);
    }
    LOG.info(
        "Kafka broker on port {} stopped in {} ms",
        port,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - closingAt));
  }

  private static void stopQuietly(KafkaRaftServer server) {
    try {
      server.shutdown();
    } catch (RuntimeException e) {
      LOG.warn("Kafka broker shutdown failed", e);
    }
    try {
      server.awaitShutdown();
    } catch (RuntimeException e) {
      LOG.warn("waiting for the Kafka broker to stop failed", e);
    }
  }

  /** A port that is free on 127.0.0.1 now, other than {@code notThis}. */
  private static int freePort(int... notThese) {
    for (int attempt = 0; attempt < 10; attempt++) {
      try (ServerSocket socket = new ServerSocket()) {
        socket.bind(new InetSocketAddress(InetAddress.getByName(LOOPBACK), 0));
        int candidate = socket.getLocalPort();
        boolean taken = false;
        for (int other : notThese) {
          taken |= other == candidate;
        }
        if (!taken) {
          return candidate;
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot find a free port on " + LOOPBACK, e);
      }
    }
    throw new IllegalStateException("cannot find a free port on " + LOOPBACK);
  }

  /** Fails early, and with a plain message, when a fixed port is taken (Kafka would log a page). */
  private static int requireFree(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(InetAddress.getByName(LOOPBACK), port));
      return port;
    } catch (IOException e) {
      throw new IllegalStateException(
          "port " + port + " on " + LOOPBACK + " is in use: " + e.getMessage(), e);
    }
  }

  private static void deleteQuietly(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try {
      Files.walkFileTree(
          dir,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              Files.deleteIfExists(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
              Files.deleteIfExists(d);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      LOG.warn("cannot delete the Kafka data folder {}: {}", dir, e.toString());
    }
  }

  @Override
  public String toString() {
    return "LocalKafkaBroker[" + bootstrapServers() + ", data " + dataDir + "]";
  }
}
