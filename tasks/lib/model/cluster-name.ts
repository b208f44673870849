// A cluster is a folder under clusters/; its name reaches command lines, so it is kept plain.
// Its own file so that the Nx plugin (loaded on every Nx command) does not load the whole model.
export const CLUSTER_NAME = /^[a-z0-9][a-z0-9-]*$/;
