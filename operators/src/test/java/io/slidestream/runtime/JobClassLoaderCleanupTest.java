package io.slidestream.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.milvus.shaded.io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import java.lang.reflect.Field;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class JobClassLoaderCleanupTest {

    /**
     * The event loop threads of the Milvus client's (shaded) Netty ignore interrupts; the cleanup
     * finds their executor from the thread's runnable and shuts it down, which ends them.
     */
    @Test
    void endsANettyEventLoopThreadFromItsRunnable() throws Exception {
        NioEventLoopGroup group = new NioEventLoopGroup(1);
        try {
            AtomicReference<Thread> loop = new AtomicReference<>();
            group.submit(() -> loop.set(Thread.currentThread())).get(10, TimeUnit.SECONDS);
            Thread thread = loop.get();
            thread.interrupt();
            thread.join(500);
            assertThat(thread.isAlive()).as("an interrupt does not end it").isTrue();

            Field target = Thread.class.getDeclaredField("target");
            target.setAccessible(true);
            assertThat(JobClassLoaderCleanup.shutDownEventLoop(target.get(thread), 3)).isTrue();
            thread.join(10_000);
            assertThat(thread.isAlive()).isFalse();
        } finally {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
        }
    }
}
