"""A minimal SMTP server on loopback for tests: it records each message it accepts. `hold` makes it accept the
next connection and say nothing (a mail server that hangs), so a worker can be killed while it waits to send."""
import socket
import threading


class SmtpSink:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.messages: list[bytes] = []
        self.hold = threading.Event()
        self.held = threading.Event()  # a connection is being held now
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                continue
            if self.hold.is_set():
                self.held.set()
                while self.hold.is_set() and not self.stop.is_set():
                    self.stop.wait(0.05)
                conn.close()
                continue
            try:
                self._session(conn)
            except OSError:
                pass
            finally:
                conn.close()

    def _session(self, conn):
        f = conn.makefile("rb")
        conn.sendall(b"220 sink ready\r\n")
        while True:
            line = f.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb == b"DATA":
                conn.sendall(b"354 go on\r\n")
                data = b""
                while True:
                    chunk = f.readline()
                    if chunk in (b".\r\n", b""):
                        break
                    data += chunk
                self.messages.append(data)
                conn.sendall(b"250 queued\r\n")
            elif verb == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            else:
                conn.sendall(b"250 ok\r\n")

    def close(self):
        self.stop.set()
        self.thread.join(timeout=5)
        self.sock.close()
