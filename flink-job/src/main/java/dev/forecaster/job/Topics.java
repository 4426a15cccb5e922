package dev.forecaster.job;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;

/** Creates the job's topics that do not exist yet: models compacted, the rest one partition per subtask. */
public final class Topics {

  private Topics() {}

  public static List<String> ensure(JobConfig config) throws Exception {
    Properties p = config.kafkaClientProperties();
    p.put("bootstrap.servers", config.bootstrapServers());
    List<String> created = new ArrayList<>();
    try (Admin admin = Admin.create(p)) {
      Set<String> existing;
      try {
        existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        throw new IllegalStateException("no Kafka broker answered at " + config.bootstrapServers()
            + " (bootstrap.servers)", e);
      }
      List<NewTopic> missing = new ArrayList<>();
      for (String topic : List.of(config.readingsTopic(), config.forecastsTopic(), config.evaluationsTopic(),
          config.deadLettersTopic())) {
        if (!existing.contains(topic)) {
          missing.add(new NewTopic(topic, config.parallelism(), (short) -1));
        }
      }
      if (!existing.contains(config.modelsTopic())) {
        missing.add(new NewTopic(config.modelsTopic(), 1, (short) -1)
            .configs(Map.of("cleanup.policy", "compact", "max.message.bytes", Integer.toString(16 * 1024 * 1024))));
      }
      if (!missing.isEmpty()) {
        admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
        missing.forEach(t -> created.add(t.name()));
      }
    }
    return created;
  }
}
