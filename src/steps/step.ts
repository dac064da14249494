/** A shell step run on a host: by first-boot user-data, and (for image steps) by Packer. */
export interface Step {
  /** File name stem on the host: /usr/local/lib/kubebake/<name>.sh */
  name: string;
  script: string;
}
