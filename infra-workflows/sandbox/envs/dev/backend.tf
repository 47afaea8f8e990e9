# Sandbox overlay: state is kept in a local terraform.tfstate file.
terraform {
  backend "local" {}
}
