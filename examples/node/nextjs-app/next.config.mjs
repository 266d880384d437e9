/** @type {import('next').NextConfig} */
const nextConfig = {
  // perf-core is a native addon: load it with Node's require at run time
  // instead of bundling it.
  serverExternalPackages: ['perf-core'],
  poweredByHeader: false,
}

export default nextConfig
