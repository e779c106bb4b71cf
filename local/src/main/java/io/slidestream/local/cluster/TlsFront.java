package io.slidestream.local.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/**
 * A TLS front for a plain TCP server on this machine, as a load balancer or a Milvus proxy with TLS
 * ({@code tls.serverPemPath}) terminates it in a lab: accepts TLS on a free loopback port with the
 * key of a PKCS12 keystore, offers HTTP/2 by ALPN (gRPC clients insist on it), and passes the
 * decrypted bytes both ways to {@code upstreamPort}. It runs in the caller's JVM for the tests of
 * Milvus over TLS (Milvus Lite speaks plain gRPC only).
 */
public final class TlsFront implements AutoCloseable {
    private final SSLServerSocket server;
    private final int upstreamPort;
    private final ExecutorService threads = Executors.newCachedThreadPool(daemon());

    private TlsFront(SSLServerSocket server, int upstreamPort) {
        this.server = server;
        this.upstreamPort = upstreamPort;
        threads.execute(this::accept);
    }

    /** Starts a front with the key in {@code keystore} (PKCS12) before {@code upstreamPort}. */
    public static TlsFront start(Path keystore, String password, int upstreamPort) {
        try {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            try (InputStream in = java.nio.file.Files.newInputStream(keystore)) {
                keys.load(in, password.toCharArray());
            }
            KeyManagerFactory factory =
                    KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            factory.init(keys, password.toCharArray());
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(factory.getKeyManagers(), null, null);
            SSLServerSocket server =
                    (SSLServerSocket)
                            context.getServerSocketFactory()
                                    .createServerSocket(0, 50, InetAddress.getLoopbackAddress());
            return new TlsFront(server, upstreamPort);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the TLS front", e);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("cannot load the TLS front's key " + keystore, e);
        }
    }

    /** The port clients connect to with TLS. */
    public int port() {
        return server.getLocalPort();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                SSLSocket client = (SSLSocket) server.accept();
                SSLParameters parameters = client.getSSLParameters();
                parameters.setApplicationProtocols(new String[] {"h2"});
                client.setSSLParameters(parameters);
                threads.execute(() -> relay(client));
            } catch (IOException e) {
                // Closed, or one failed accept: the loop ends or goes on.
            }
        }
    }

    /** Hands shakes with the client, then copies bytes both ways until either side closes. */
    private void relay(SSLSocket client) {
        try (client;
                Socket upstream = new Socket(InetAddress.getLoopbackAddress(), upstreamPort)) {
            client.startHandshake();
            threads.execute(() -> copy(upstream, client));
            copy(client, upstream);
        } catch (IOException e) {
            // A failed handshake (an untrusting client) or a closed connection: that client only.
        }
    }

    private static void copy(Socket from, Socket to) {
        byte[] buffer = new byte[64 * 1024];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            for (int n; (n = in.read(buffer)) >= 0; ) {
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (SocketException closed) {
            // The other direction closed the sockets.
        } catch (IOException e) {
            // The connection broke; the client sees it and reconnects.
        } finally {
            try {
                to.close();
                from.close();
            } catch (IOException ignored) {
                // Closing both ends is all that is left to do.
            }
        }
    }

    private static java.util.concurrent.ThreadFactory daemon() {
        return r -> {
            Thread t = new Thread(r, "tls-front");
            t.setDaemon(true);
            return t;
        };
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            // Nothing to release beyond the socket.
        }
        threads.shutdownNow();
    }
}
