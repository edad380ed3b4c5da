/** @type {import("next").NextConfig} */
const config = {
  // Stays in this example's folder: the build output, and the root it traces files from.
  distDir: ".next",
};
export default config;
