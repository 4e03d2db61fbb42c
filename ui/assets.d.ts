/** Files the bundler turns into URLs when imported (ui/ only). */
declare module "*.svg" {
  const url: string;
  export default url;
}
