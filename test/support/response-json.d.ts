// Tests read many JSON bodies and assert on their shape with expect(); typing each one adds noise, not safety.
declare global {
  interface Response {
    json(): Promise<any>;
  }
}
export {};
