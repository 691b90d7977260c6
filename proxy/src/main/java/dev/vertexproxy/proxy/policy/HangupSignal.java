package dev.vertexproxy.proxy.policy;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * SIGHUP through {@code sun.misc.Signal} (module {@code jdk.unsupported}, present in every JDK the proxy runs on),
 * reached by reflection: javac flags any direct use as internal proprietary API, and the build fails on warnings.
 * The handler runs on the JVM's signal thread, so it must only hand off.
 */
final class HangupSignal {
  private HangupSignal() {
  }

  /**
   * Makes SIGHUP run {@code handler} instead of ending the process.
   *
   * @throws IllegalStateException when the JVM refuses (run with {@code -Xrs}, or no SIGHUP on this platform)
   */
  static void handle(Runnable handler) {
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
      Object hup = signal.getConstructor(String.class).newInstance("HUP");
      Object proxy = Proxy.newProxyInstance(HangupSignal.class.getClassLoader(), new Class<?>[] {handlerType},
          (self, method, args) -> {
            if (method.getName().equals("handle")) {
              handler.run();
              return null;
            }
            return switch (method.getName()) {
              case "hashCode" -> System.identityHashCode(self);
              case "equals" -> self == args[0];
              default -> "HangupSignal";
            };
          });
      Method handle = signal.getMethod("handle", signal, handlerType);
      handle.invoke(null, hup, proxy);
    } catch (InvocationTargetException e) {
      throw new IllegalStateException(String.valueOf(e.getCause()), e.getCause());
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalStateException(e.toString(), e);
    }
  }
}
