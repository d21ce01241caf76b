package io.pgbridge.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbridge.Event;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

class IdsTest {

    private static Event newEvent() {
        return Event.builder()
                .timeOrderedId()
                .source("notify")
                .channel("c")
                .payload("p")
                .build();
    }

    @Test
    void idsAreVersion7UuidsInCreationOrder() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            ids.add(newEvent().id());
        }
        for (String id : ids) {
            UUID uuid = UUID.fromString(id);
            assertThat(uuid.version()).as("version of %s", id).isEqualTo(7);
            assertThat(uuid.variant()).as("variant of %s", id).isEqualTo(2);
        }
        assertThat(ids).as("sorted as created, each once").isSorted().doesNotHaveDuplicates();
        assertThat(ids.stream().map(id -> id.substring(19)).distinct().count())
                .as("the random part differs from id to id")
                .isEqualTo(ids.size());
    }

    @Test
    void threadsMakeDistinctIds() throws InterruptedException {
        Set<String> ids = ConcurrentHashMap.newKeySet();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread thread = new Thread(() -> {
                for (int i = 0; i < 2_000; i++) {
                    ids.add(newEvent().id());
                }
            });
            thread.start();
            threads.add(thread);
        }
        for (Thread thread : threads) {
            thread.join();
        }
        assertThat(ids).hasSize(8_000);
    }

    @Test
    void anEventsTimeOrderedIdIsMadeOnceAndKeptByEveryReader() throws InterruptedException {
        Event event = newEvent();
        Set<String> seen = ConcurrentHashMap.newKeySet();
        List<Thread> readers = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread reader = new Thread(() -> seen.add(event.id()));
            reader.start();
            readers.add(reader);
        }
        for (Thread reader : readers) {
            reader.join();
        }
        assertThat(seen).as("the id every thread read").containsExactly(event.id());
        assertThat(event.id()).hasSize(Ids.TEXT_LENGTH);
        Event copy = event.toBuilder().build();
        assertThat(copy.id()).isEqualTo(event.id());
        assertThat(copy).isEqualTo(event).hasSameHashCodeAs(event);
        assertThat(event.toBuilder().timeOrderedId().build().id())
                .as("a new id")
                .isNotEqualTo(event.id());
        assertThat(event.toBuilder().id("explicit").build().id()).isEqualTo("explicit");
    }
}
